module kuberef.test/jsondiff

go 1.22

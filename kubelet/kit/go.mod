module github.com/kuberef/kuberef/kubelet/kit

go 1.24

# The kubelet fork kit (kubelet/; docs/kubelet-fork.md).
#
#   make kubelet-fork K8S=path/to/kubernetes         swap kuberef into a Kubernetes v1.18
#                                                    tree, build its kubelet with kuberef
#                                                    linked statically, run --version, ldd
#   make kubelet-fork-remove K8S=path/to/kubernetes  undo it
#   make kubelet-fork-test                           (in make test) the kit's tests, then
#                                                    k8s.io/kubernetes v1.18.6 from the Go
#                                                    module proxy with and without the kit:
#                                                    upstream's container, prober and
#                                                    kuberuntime tests compared, cmd/kubelet/...
#                                                    built (work tree: build/kubelet-fork)

TESTS += kubelet-fork-test
.PHONY: kubelet-fork kubelet-fork-remove kubelet-fork-test

kubelet-fork: lib
	@test -n "$(K8S)" || { echo "usage: make kubelet-fork K8S=path/to/kubernetes"; exit 2; }
	bash kubelet/fork.sh apply "$(K8S)"

kubelet-fork-remove:
	@test -n "$(K8S)" || { echo "usage: make kubelet-fork-remove K8S=path/to/kubernetes"; exit 2; }
	bash kubelet/fork.sh remove "$(K8S)"

kubelet-fork-test: lib
	bash kubelet/test.sh

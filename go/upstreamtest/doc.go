// Package upstreamtest holds the tests that compare the kuberef Go binding
// with the real upstream code (k8s.io/kubernetes v1.18.6 and client-go
// v0.18.6) and the benchmarks that run both side by side. It is a separate
// module so that its heavy dependencies never enter the module graph of the
// binding's users.
package upstreamtest

package kuberef

import v1 "k8s.io/api/core/v1"

// GenerateOptions are the settings of one GenerateContainerRefWith call: the
// feature gates that upstream's GenerateContainerRef reads on every call. The
// zero value is Kubernetes v1.18's default, every gate off.
type GenerateOptions struct {
	// EphemeralContainers makes the search go on into the pod's
	// spec.ephemeralContainers after spec.containers and
	// spec.initContainers, as upstream's does while the EphemeralContainers
	// feature gate is enabled.
	EphemeralContainers bool
}

// GenerateContainerRefWith is GenerateContainerRef with its settings passed
// per call, so that a kubelet fork can follow its own feature gate exactly as
// upstream does, without telling the binding when the gate changes:
//
//	kuberef.GenerateContainerRefWith(pod, container, kuberef.GenerateOptions{
//		EphemeralContainers: utilfeature.DefaultFeatureGate.Enabled(features.EphemeralContainers),
//	})
//
// It ignores SetEphemeralContainersEnabled: only opts decides which lists are
// searched. The result, its sharing of the pod's strings and the errors are
// GenerateContainerRef's.
func GenerateContainerRefWith(pod *v1.Pod, container *v1.Container, opts GenerateOptions) (*v1.ObjectReference, error) {
	return generateContainerRef(pod, container, opts.EphemeralContainers)
}

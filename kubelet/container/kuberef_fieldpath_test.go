package container

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// fieldPath returns the field path GenerateContainerRef gives container
// within pod, or an error if the container is in none of the lists it
// searches (GenerateContainerRef then falls back to ImplicitContainerPrefix).
// It is the helper the package's reference tests call; the kuberef kit
// provides it for them.
func fieldPath(pod *v1.Pod, container *v1.Container) (string, error) {
	ref, err := GenerateContainerRef(pod, container)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(ref.FieldPath, ImplicitContainerPrefix) {
		return "", fmt.Errorf("container %q is not in pod %s/%s", container.Name, pod.Namespace, pod.Name)
	}
	return ref.FieldPath, nil
}

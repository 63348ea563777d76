//go:build race

package kuberef_test

const raceEnabled = true

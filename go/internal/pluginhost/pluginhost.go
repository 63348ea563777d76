// Package pluginhost loads the C test plugins of c-tests/plugins into a Go
// process with dlopen(RTLD_NOW | RTLD_LOCAL), the way a Go kubelet fork
// loads a CRI shim or device plugin written in C. It exists for the tests in
// this directory (cgo cannot be used in _test.go files).
//
// It does not link kuberef itself: the plugin reaches whatever copy of the
// library the dynamic linker binds its kuberef_* references to.
package pluginhost

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include -I${SRCDIR}/../../../c-tests/plugins
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include "plugin.h"

static void *ph_open(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static int ph_close(void *h) { return dlclose(h); }
static const char *ph_error(void) { return dlerror(); }

// Calls the plugin's refplugin_init; returns the table or NULL with err set.
static const refplugin *ph_init(void *h, char *err, size_t err_len) {
	const refplugin *p = NULL;
	void *sym = dlsym(h, REFPLUGIN_INIT_SYMBOL);
	refplugin_init_fn init;
	if (sym == NULL) {
		snprintf(err, err_len, "%s", dlerror());
		return NULL;
	}
	*(void **)(&init) = sym;
	if (init(&p, err, err_len) != 0) return NULL;
	return p;
}

static uint32_t ph_set(const refplugin *p, const char *t, const char *id, const char *pod) { return p->set(t, id, pod); }
static uint32_t ph_get(const refplugin *p, const char *t, const char *id, char *pod, size_t n) { return p->get(t, id, pod, n); }
static uint32_t ph_clear(const refplugin *p, const char *t, const char *id) { return p->clear(t, id); }
static size_t ph_len(const refplugin *p) { return p->len(); }
static uintptr_t ph_global(const refplugin *p) { return (uintptr_t)p->global(); }

// Does the main program export kuberef_global to plugins (dynamically
// linked to libkuberef.so, or a static link with the kuberef_* symbols in
// its dynamic symbol table)?
static int ph_host_exports_kuberef(void) {
	void *self = dlopen(NULL, RTLD_NOW);
	int found = self != NULL && dlsym(self, "kuberef_global") != NULL;
	if (self != NULL) dlclose(self);
	return found;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Status codes (include/kuberef.h).
const (
	OK       = uint32(C.KUBEREF_OK)
	NotFound = uint32(C.KUBEREF_NOT_FOUND)
)

// Plugin is one loaded plugin.
type Plugin struct {
	h unsafe.Pointer
	p *C.refplugin
}

// Load dlopens the plugin at path and runs its init function (which does
// the plugin's ABI check).
func Load(path string) (*Plugin, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	h := C.ph_open(cpath)
	if h == nil {
		return nil, errors.New(C.GoString(C.ph_error()))
	}
	var errbuf [512]C.char
	p := C.ph_init(h, &errbuf[0], C.size_t(len(errbuf)))
	if p == nil {
		C.ph_close(h)
		return nil, errors.New(C.GoString(&errbuf[0]))
	}
	return &Plugin{h: h, p: p}, nil
}

// Close dlcloses the plugin.
func (pl *Plugin) Close() error {
	if C.ph_close(pl.h) != 0 {
		return errors.New(C.GoString(C.ph_error()))
	}
	return nil
}

// Name is the plugin's build name.
func (pl *Plugin) Name() string { return C.GoString(pl.p.name) }

// ABI returns the ABI the plugin was compiled against and the one it found.
func (pl *Plugin) ABI() (built, runtime uint32) {
	return uint32(pl.p.built_abi), uint32(pl.p.runtime_abi)
}

// Set stores, through the plugin, a Pod reference named pod under typ://id.
func (pl *Plugin) Set(typ, id, pod string) uint32 {
	ct, ci, cp := C.CString(typ), C.CString(id), C.CString(pod)
	defer C.free(unsafe.Pointer(ct))
	defer C.free(unsafe.Pointer(ci))
	defer C.free(unsafe.Pointer(cp))
	return uint32(C.ph_set(pl.p, ct, ci, cp))
}

// Get returns, through the plugin, the name stored under typ://id.
func (pl *Plugin) Get(typ, id string) (string, uint32) {
	ct, ci := C.CString(typ), C.CString(id)
	defer C.free(unsafe.Pointer(ct))
	defer C.free(unsafe.Pointer(ci))
	var buf [256]C.char
	s := uint32(C.ph_get(pl.p, ct, ci, &buf[0], C.size_t(len(buf))))
	if s != OK {
		return "", s
	}
	return C.GoString(&buf[0]), s
}

// Clear forgets typ://id through the plugin.
func (pl *Plugin) Clear(typ, id string) uint32 {
	ct, ci := C.CString(typ), C.CString(id)
	defer C.free(unsafe.Pointer(ct))
	defer C.free(unsafe.Pointer(ci))
	return uint32(C.ph_clear(pl.p, ct, ci))
}

// Len is kuberef_len of the global manager the plugin sees.
func (pl *Plugin) Len() int { return int(C.ph_len(pl.p)) }

// Global is the address of the global manager the plugin sees.
func (pl *Plugin) Global() uintptr { return uintptr(C.ph_global(pl.p)) }

// HostExportsKuberef reports whether the program's own kuberef_* symbols
// are visible to plugins (see ph_host_exports_kuberef).
func HostExportsKuberef() bool { return C.ph_host_exports_kuberef() != 0 }

// The header from C++11: it compiles with -Wall -Wextra -Werror -pedantic,
// its declarations have C linkage, and a C++ program links and calls them.
#include "kuberef.h"

#include <cstdio>
#include <string>
#include <vector>

static kuberef_str view(const std::string &s) { return kuberef_str{s.data(), s.size()}; }

static std::string str(kuberef_str v) { return std::string(v.ptr, v.len); }

int main() {
  int failed = 0, passed = 0;
  auto check = [&](bool ok, const char *what) {
    if (ok) {
      passed++;
    } else {
      failed++;
      std::fprintf(stderr, "FAILED: %s\n", what);
    }
  };
  const std::string kind = "Pod", ver = "v1", ns = "default", name = "web", uid = "u-1", rv = "9";
  const std::vector<std::string> names = {"nginx", "sidecar"};
  std::vector<kuberef_str> cs;
  for (const auto &n : names) cs.push_back(view(n));
  kuberef_pod pod{view(kind), view(ver), view(ns), view(name), view(uid), view(rv),
                  cs.data(),  cs.size(), nullptr,   0,          nullptr,   0};
  kuberef_object_reference ref{};
  size_t needed = 0;
  check(kuberef_generate_container_ref(&pod, view(names[1]), 0, &ref, nullptr, 0, &needed) ==
            KUBEREF_BUFFER_TOO_SMALL,
        "size query");
  std::vector<char> buf(needed);
  check(kuberef_generate_container_ref(&pod, view(names[1]), 0, &ref, buf.data(), buf.size(),
                                       nullptr) == KUBEREF_OK,
        "generate");
  check(str(ref.field_path) == "spec.containers{sidecar}", "field path");

  kuberef_manager *m = kuberef_manager_new();
  const std::string text = "containerd://c0ffee";
  kuberef_container_id id{};
  check(kuberef_container_id_parse(view(text), &id) == KUBEREF_OK, "parse");
  check(kuberef_set_ref(m, &id, &ref) == KUBEREF_OK, "set");
  kuberef_object_reference got{};
  std::vector<char> buf2(needed);
  check(kuberef_get_ref(m, &id, &got, buf2.data(), buf2.size(), nullptr) == KUBEREF_OK, "get");
  check(str(got.namespace_) == "default" && str(got.name) == "web", "got fields");
  check(kuberef_clear_ref(m, &id) == KUBEREF_OK && kuberef_len(m) == 0, "clear");
  kuberef_manager_free(m);
  check(kuberef_abi_version() == KUBEREF_ABI_VERSION, "abi");
  std::printf("test_cpp: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

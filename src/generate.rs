//! Upstream `GenerateContainerRef`.
//!
//! Semantics follow Kubernetes v1.18.6 `pkg/kubelet/container/ref.go` and
//! client-go v0.18.6 `tools/reference.GetPartialReference`, with
//! apimachinery v0.18.6 `ParseGroupVersion`, `FromAPIVersionAndKind` and
//! `GroupVersion.String`:
//!
//! * Kind and APIVersion come from the pod's TypeMeta. Only when the whole
//!   GroupVersionKind is empty does the scheme fallback apply (Kind `Pod`,
//!   APIVersion `v1`). An APIVersion with two or more `/` does not parse, and
//!   then only the Kind is kept.
//! * The field path has no leading dot: `spec.containers{NAME}`, or
//!   `spec.containers[INDEX]` when the matched name is empty; then the init
//!   containers, then (only with the EphemeralContainers gate on) the
//!   ephemeral containers. A container that is in none of them is not an
//!   error: its path is [`IMPLICIT_CONTAINER_PREFIX`] followed by its name.

use crate::reference::{ObjectReference, Pieces, FIELD_COUNT};

/// The field path prefix of a container that is not part of the pod's spec
/// (upstream `ImplicitContainerPrefix`; note the trailing space).
pub const IMPLICIT_CONTAINER_PREFIX: &[u8] = b"implicitly required container ";

/// A list of container names, searched by exact (byte) equality.
pub trait ContainerNames {
    /// The index of the first name equal to `name`.
    fn position(&self, name: &[u8]) -> Option<usize>;
}

impl<T: AsRef<[u8]>> ContainerNames for [T] {
    fn position(&self, name: &[u8]) -> Option<usize> {
        self.iter().position(|n| n.as_ref() == name)
    }
}

/// What `GenerateContainerRef` reads from a `v1.Pod`.
#[derive(Clone, Copy, Debug)]
pub struct Pod<'a, L: ContainerNames + ?Sized = [&'a [u8]]> {
    /// TypeMeta.Kind
    pub kind: &'a [u8],
    /// TypeMeta.APIVersion
    pub api_version: &'a [u8],
    /// ObjectMeta.Namespace
    pub namespace: &'a [u8],
    /// ObjectMeta.Name
    pub name: &'a [u8],
    /// ObjectMeta.UID
    pub uid: &'a [u8],
    /// ObjectMeta.ResourceVersion
    pub resource_version: &'a [u8],
    /// Spec.Containers[*].Name
    pub containers: &'a L,
    /// Spec.InitContainers[*].Name
    pub init_containers: &'a L,
    /// Spec.EphemeralContainers[*].Name
    pub ephemeral_containers: &'a L,
}

/// Options of [`generate_container_ref`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenerateOptions {
    /// The EphemeralContainers feature gate (off by default in v1.18).
    pub ephemeral_containers: bool,
}

/// Which pod spec list a field path points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerList {
    Containers,
    InitContainers,
    EphemeralContainers,
}

impl ContainerList {
    fn prefix(self) -> &'static [u8] {
        match self {
            ContainerList::Containers => b"spec.containers",
            ContainerList::InitContainers => b"spec.initContainers",
            ContainerList::EphemeralContainers => b"spec.ephemeralContainers",
        }
    }
}

/// A generated field path, kept in pieces so that it can be written
/// without an intermediate allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldPath<'a> {
    /// `spec.LIST{NAME}`
    Named(ContainerList, &'a [u8]),
    /// `spec.LIST[INDEX]` (the matched name was empty)
    Indexed(ContainerList, usize),
    /// `implicitly required container NAME`
    Implicit(&'a [u8]),
}

/// A generated APIVersion: `group/version`, or `version` when the group is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiVersion<'a> {
    pub group: &'a [u8],
    pub version: &'a [u8],
}

/// Writes `n` in decimal into the end of `buf` and returns the digits.
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

impl Pieces for FieldPath<'_> {
    fn pieces(&self, f: &mut dyn FnMut(&[u8])) {
        match *self {
            FieldPath::Named(list, name) => {
                f(list.prefix());
                f(b"{");
                f(name);
                f(b"}");
            }
            FieldPath::Indexed(list, index) => {
                let mut digits = [0u8; 20];
                f(list.prefix());
                f(b"[");
                f(decimal(index, &mut digits));
                f(b"]");
            }
            FieldPath::Implicit(name) => {
                f(IMPLICIT_CONTAINER_PREFIX);
                f(name);
            }
        }
    }
}

impl<'a> ApiVersion<'a> {
    /// The API version as one slice, if it is one: the version alone when
    /// there is no group, or `text`, the apiVersion it was parsed from, when
    /// `group/version` is `text` itself (the group at its start, one `/`,
    /// the version at its end). Decided from addresses and lengths and the
    /// one byte between the group and the version.
    pub fn within(&self, text: &'a [u8]) -> Option<&'a [u8]> {
        if self.group.is_empty() {
            return Some(self.version);
        }
        let joined = self.group.len() + 1 + self.version.len();
        let starts = std::ptr::eq(self.group.as_ptr(), text.as_ptr());
        let ends = std::ptr::eq(
            self.version.as_ptr().wrapping_add(self.version.len()),
            text.as_ptr().wrapping_add(text.len()),
        );
        (starts && ends && text.len() == joined && text[self.group.len()] == b'/').then_some(text)
    }
}

impl Pieces for ApiVersion<'_> {
    fn pieces(&self, f: &mut dyn FnMut(&[u8])) {
        if !self.group.is_empty() {
            f(self.group);
            f(b"/");
        }
        f(self.version);
    }
}

/// The result of [`generate_container_ref`], borrowing from the pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeneratedRef<'a> {
    pub kind: &'a [u8],
    pub namespace: &'a [u8],
    pub name: &'a [u8],
    pub uid: &'a [u8],
    pub api_version: ApiVersion<'a>,
    pub resource_version: &'a [u8],
    pub field_path: FieldPath<'a>,
}

impl GeneratedRef<'_> {
    /// The fields in upstream order, as pieces.
    pub fn fields(&self) -> [&dyn Pieces; FIELD_COUNT] {
        [
            &self.kind,
            &self.namespace,
            &self.name,
            &self.uid,
            &self.api_version,
            &self.resource_version,
            &self.field_path,
        ]
    }

    /// An owned `v1.ObjectReference`.
    pub fn to_owned(&self) -> ObjectReference {
        ObjectReference::from_fields(self.fields().map(|p| p.to_vec()))
    }
}

/// apimachinery `ParseGroupVersion`: `None` for two or more `/`.
fn parse_group_version(gv: &[u8]) -> Option<ApiVersion<'_>> {
    if gv.is_empty() || gv == b"/" {
        return Some(ApiVersion {
            group: b"",
            version: b"",
        });
    }
    let mut slashes = gv.iter().enumerate().filter(|(_, &b)| b == b'/');
    match (slashes.next(), slashes.next()) {
        (None, _) => Some(ApiVersion {
            group: b"",
            version: gv,
        }),
        (Some((i, _)), None) => Some(ApiVersion {
            group: &gv[..i],
            version: &gv[i + 1..],
        }),
        (Some(_), Some(_)) => None,
    }
}

/// The field path of `container` within `pod` (upstream `fieldPath`), or
/// `None` when the container is in none of the searched lists.
pub fn field_path<'a, L: ContainerNames + ?Sized>(
    pod: &Pod<'a, L>,
    container: &'a [u8],
    opts: GenerateOptions,
) -> Option<FieldPath<'a>> {
    let mut lists = searched_lists(pod, opts);
    lists.find_map(|(list, names)| {
        names.position(container).map(|i| {
            if container.is_empty() {
                FieldPath::Indexed(list, i)
            } else {
                FieldPath::Named(list, container)
            }
        })
    })
}

fn searched_lists<'p, 'a, L: ContainerNames + ?Sized>(
    pod: &'p Pod<'a, L>,
    opts: GenerateOptions,
) -> impl Iterator<Item = (ContainerList, &'a L)> + 'p {
    [
        (ContainerList::Containers, pod.containers),
        (ContainerList::InitContainers, pod.init_containers),
        (ContainerList::EphemeralContainers, pod.ephemeral_containers),
    ]
    .into_iter()
    .take(if opts.ephemeral_containers { 3 } else { 2 })
}

/// Upstream `GenerateContainerRef(pod, container)` for a container named
/// `container`. It cannot fail for a pod: see the module documentation.
pub fn generate_container_ref<'a, L: ContainerNames + ?Sized>(
    pod: &Pod<'a, L>,
    container: &'a [u8],
    opts: GenerateOptions,
) -> GeneratedRef<'a> {
    let field_path = field_path(pod, container, opts).unwrap_or(FieldPath::Implicit(container));
    // TypeMeta.GroupVersionKind(): FromAPIVersionAndKind drops the version on a parse error.
    let gv = parse_group_version(pod.api_version).unwrap_or(ApiVersion {
        group: b"",
        version: b"",
    });
    let (kind, api_version) = if gv.group.is_empty() && gv.version.is_empty() && pod.kind.is_empty()
    {
        // GetReference's scheme fallback: a v1.Pod is registered as core/v1 Pod.
        (
            &b"Pod"[..],
            ApiVersion {
                group: b"",
                version: b"v1",
            },
        )
    } else {
        (pod.kind, gv)
    };
    GeneratedRef {
        kind,
        namespace: pod.namespace,
        name: pod.name,
        uid: pod.uid,
        api_version,
        resource_version: pod.resource_version,
        field_path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_are_slices_of_the_input_or_constants() {
        // Every TypeMeta shape: the generated apiVersion is one slice, of
        // the pod's own apiVersion or a static constant, equal to the pieces.
        for (kind, av) in [
            ("Pod", "v1"),
            ("Pod", "apps/v1"),
            ("Pod", "/v1"),
            ("Pod", "g/"),
            ("Pod", "/"),
            ("Pod", "//"),
            ("Pod", "a/b/c"),
            ("Pod", ""),
            ("", ""),
            ("", "v1"),
            ("", "a/b"),
            ("X", "a/b/c"),
        ] {
            let p = pod(kind, av, &[b"c"], EMPTY, EMPTY);
            let g = generate_container_ref(&p, b"c", GenerateOptions::default());
            let s = g.api_version.within(p.api_version).expect("one slice");
            assert_eq!(s, &g.api_version.to_vec()[..], "{kind:?} {av:?}");
            let inside = |x: &[u8]| {
                let (a, b) = (p.api_version.as_ptr() as usize, x.as_ptr() as usize);
                x.is_empty() || (b >= a && b + x.len() <= a + p.api_version.len())
            };
            assert!(
                inside(s) || s == b"v1",
                "{kind:?} {av:?}: not the input's bytes"
            );
        }
        // Not a slice of some other text with the same bytes.
        let other = b"apps/v1".to_vec();
        let p = pod("Pod", "apps/v1", &[b"c"], EMPTY, EMPTY);
        let g = generate_container_ref(&p, b"c", GenerateOptions::default());
        assert_eq!(g.api_version.within(&other), None);
        // Nor a text whose group and version are joined by another byte.
        let text = b"a?b";
        let av = ApiVersion {
            group: &text[..1],
            version: &text[2..],
        };
        assert_eq!(av.within(text), None);
    }

    const EMPTY: &[&[u8]] = &[];

    fn pod<'a>(
        kind: &'a str,
        api_version: &'a str,
        containers: &'a [&'a [u8]],
        init: &'a [&'a [u8]],
        eph: &'a [&'a [u8]],
    ) -> Pod<'a> {
        Pod {
            kind: kind.as_bytes(),
            api_version: api_version.as_bytes(),
            namespace: b"test-ns",
            name: b"ok",
            uid: b"bar",
            resource_version: b"42",
            containers,
            init_containers: init,
            ephemeral_containers: eph,
        }
    }

    fn gen<'a>(p: &Pod<'a>, c: &'a str, eph: bool) -> ObjectReference {
        generate_container_ref(
            p,
            c.as_bytes(),
            GenerateOptions {
                ephemeral_containers: eph,
            },
        )
        .to_owned()
    }

    fn path<'a>(p: &Pod<'a>, c: &'a str) -> String {
        String::from_utf8(gen(p, c, false).field_path).unwrap()
    }

    /// `ref_test.go` TestFieldPath: the pod has containers foo, bar, "", baz.
    #[test]
    fn upstream_test_field_path() {
        let cs: &[&[u8]] = &[b"foo", b"bar", b"", b"baz"];
        let p = pod("", "", cs, EMPTY, EMPTY);
        let f = |c: &'static str| {
            field_path(&p, c.as_bytes(), GenerateOptions::default())
                .map(|f| String::from_utf8(f.to_vec()).unwrap())
        };
        assert_eq!(f("foo").as_deref(), Some("spec.containers{foo}"));
        assert_eq!(f("baz").as_deref(), Some("spec.containers{baz}"));
        assert_eq!(f("").as_deref(), Some("spec.containers[2]"));
        assert_eq!(f("qux"), None);
    }

    /// `ref_test.go` TestGenerateContainerRef (v1.16-v1.23 form), with the
    /// real field paths (the test's own expected paths are never compared).
    #[test]
    fn upstream_test_generate_container_ref() {
        let cs: &[&[u8]] = &[b"by-name", b""];
        let p = pod("Pod", "v1", cs, EMPTY, EMPTY);
        for (c, fp) in [
            ("by-name", "spec.containers{by-name}"),
            ("", "spec.containers[1]"),
            ("net", "implicitly required container net"),
        ] {
            let r = gen(&p, c, false);
            assert_eq!(
                r,
                ObjectReference {
                    kind: b"Pod".to_vec(),
                    namespace: b"test-ns".to_vec(),
                    name: b"ok".to_vec(),
                    uid: b"bar".to_vec(),
                    api_version: b"v1".to_vec(),
                    resource_version: b"42".to_vec(),
                    field_path: fp.as_bytes().to_vec(),
                },
                "container {c:?}"
            );
        }
    }

    #[test]
    fn lists_are_searched_in_order_and_first_match_wins() {
        let cs: &[&[u8]] = &[b"a", b"dup", b"dup"];
        let init: &[&[u8]] = &[b"dup", b"i", b""];
        let eph: &[&[u8]] = &[b"e", b"", b"i"];
        let p = pod("Pod", "v1", cs, init, eph);
        assert_eq!(path(&p, "dup"), "spec.containers{dup}");
        assert_eq!(path(&p, "i"), "spec.initContainers{i}");
        assert_eq!(path(&p, ""), "spec.initContainers[2]");
        assert_eq!(path(&p, "e"), "implicitly required container e");
        let e = |c| String::from_utf8(gen(&p, c, true).field_path).unwrap();
        assert_eq!(e("e"), "spec.ephemeralContainers{e}");
        assert_eq!(e("i"), "spec.initContainers{i}");
        let p2 = pod("Pod", "v1", EMPTY, EMPTY, eph);
        let e2 = |c| String::from_utf8(gen(&p2, c, true).field_path).unwrap();
        assert_eq!(e2(""), "spec.ephemeralContainers[1]");
        assert_eq!(path(&p2, ""), "implicitly required container ");
    }

    #[test]
    fn type_meta_shapes() {
        let cases = [
            ("", "", "Pod", "v1"),
            ("", "/", "Pod", "v1"),
            ("", "a/b/c", "Pod", "v1"),
            ("Pod", "", "Pod", ""),
            ("", "v1", "", "v1"),
            ("Pod", "/v1", "Pod", "v1"),
            ("Pod", "g/", "Pod", "g/"),
            ("X", "apps/v1", "X", "apps/v1"),
            ("X", "a/b/c", "X", ""),
            ("X", "//", "X", ""),
            ("", "//", "Pod", "v1"),
        ];
        for (kind, av, want_kind, want_av) in cases {
            let p = pod(kind, av, EMPTY, EMPTY, EMPTY);
            let r = gen(&p, "c", false);
            assert_eq!(
                (r.kind.as_slice(), r.api_version.as_slice()),
                (want_kind.as_bytes(), want_av.as_bytes()),
                "kind {kind:?} apiVersion {av:?}"
            );
        }
    }

    #[test]
    fn large_index_is_decimal() {
        let mut names: Vec<&[u8]> = vec![&b"x"[..]; 12345];
        names.push(b"");
        let p = pod("Pod", "v1", &names, EMPTY, EMPTY);
        assert_eq!(path(&p, ""), "spec.containers[12345]");
        let mut d = [0u8; 20];
        assert_eq!(
            decimal(usize::MAX, &mut d),
            usize::MAX.to_string().as_bytes()
        );
        assert_eq!(decimal(0, &mut d), b"0");
    }
}

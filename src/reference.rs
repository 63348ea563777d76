//! `v1.ObjectReference`: owned and borrowed, its seven fields in upstream
//! (and JSON) order, and [`Pieces`], the way a field assembled from parts
//! is written without building it first.

/// The number of string fields of an object reference.
pub const FIELD_COUNT: usize = 7;

/// The fields' names in upstream (and JSON) order.
pub const FIELD_NAMES: [&str; FIELD_COUNT] = [
    "kind",
    "namespace",
    "name",
    "uid",
    "apiVersion",
    "resourceVersion",
    "fieldPath",
];

/// An owned `v1.ObjectReference`. Every field is arbitrary bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ObjectReference {
    pub kind: Vec<u8>,
    pub namespace: Vec<u8>,
    pub name: Vec<u8>,
    pub uid: Vec<u8>,
    pub api_version: Vec<u8>,
    pub resource_version: Vec<u8>,
    pub field_path: Vec<u8>,
}

/// A borrowed `v1.ObjectReference`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ObjectReferenceRef<'a> {
    pub kind: &'a [u8],
    pub namespace: &'a [u8],
    pub name: &'a [u8],
    pub uid: &'a [u8],
    pub api_version: &'a [u8],
    pub resource_version: &'a [u8],
    pub field_path: &'a [u8],
}

impl ObjectReference {
    /// A borrowed view of this reference.
    pub fn as_ref(&self) -> ObjectReferenceRef<'_> {
        ObjectReferenceRef {
            kind: &self.kind,
            namespace: &self.namespace,
            name: &self.name,
            uid: &self.uid,
            api_version: &self.api_version,
            resource_version: &self.resource_version,
            field_path: &self.field_path,
        }
    }

    /// Builds a reference from its fields in upstream order.
    pub fn from_fields(fields: [Vec<u8>; FIELD_COUNT]) -> Self {
        let [kind, namespace, name, uid, api_version, resource_version, field_path] = fields;
        ObjectReference {
            kind,
            namespace,
            name,
            uid,
            api_version,
            resource_version,
            field_path,
        }
    }
}

impl<'a> ObjectReferenceRef<'a> {
    /// The fields in upstream order.
    pub fn fields(&self) -> [&'a [u8]; FIELD_COUNT] {
        [
            self.kind,
            self.namespace,
            self.name,
            self.uid,
            self.api_version,
            self.resource_version,
            self.field_path,
        ]
    }

    /// Builds a view from its fields in upstream order.
    pub fn from_fields(fields: [&'a [u8]; FIELD_COUNT]) -> Self {
        let [kind, namespace, name, uid, api_version, resource_version, field_path] = fields;
        ObjectReferenceRef {
            kind,
            namespace,
            name,
            uid,
            api_version,
            resource_version,
            field_path,
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> ObjectReference {
        ObjectReference::from_fields(self.fields().map(<[u8]>::to_vec))
    }
}

/// Something written as a sequence of byte pieces.
pub trait Pieces {
    /// Calls `f` with each piece, in order.
    fn pieces(&self, f: &mut dyn FnMut(&[u8]));

    /// The total length of the pieces.
    fn byte_len(&self) -> usize {
        let mut n = 0;
        self.pieces(&mut |p| n += p.len());
        n
    }

    /// The pieces joined into one vector.
    fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.byte_len());
        self.pieces(&mut |p| v.extend_from_slice(p));
        v
    }
}

impl Pieces for [u8] {
    fn pieces(&self, f: &mut dyn FnMut(&[u8])) {
        f(self)
    }
}

impl Pieces for &[u8] {
    fn pieces(&self, f: &mut dyn FnMut(&[u8])) {
        f(self)
    }
}

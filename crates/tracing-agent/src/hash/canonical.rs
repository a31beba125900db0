//! A `serde::Serializer` that writes canonical JSON straight into a [`Scratch`] buffer,
//! mapping serde's data model the way `serde_json` does.

use std::fmt::{self, Write as _};

use serde::ser::{self, Impossible, Serialize};

use super::error::{Segment, SerError};
use super::number;
use super::prefix::prefix_of;
use super::scratch::{KeySpan, Object, Scratch};
use super::string::{self, EscapingWriter};
use super::text::MAX_DEPTH;

/// Serializes `value` into the (reset) scratch buffer and checks the result is complete.
#[inline]
pub(crate) fn write<T: Serialize + ?Sized>(
    scratch: &mut Scratch,
    value: &T,
) -> Result<(), SerError> {
    value.serialize(&mut *scratch)?;
    check_complete(scratch)
}

/// Rejects output a misbehaving `Serialize` impl left behind despite returning `Ok`.
#[inline]
pub(crate) fn check_complete(scratch: &Scratch) -> Result<(), SerError> {
    if scratch.poisoned {
        Err(SerError::protocol(
            "it returned Ok after a nested value failed",
        ))
    } else if scratch.open != 0 {
        Err(SerError::protocol("a sequence or map was never ended"))
    } else {
        Ok(())
    }
}

/// How deep the serializer is: the containers open (counted where they begin and end)
/// plus the wrappers (`Some`, newtypes) being serialized, which recurse on the stack
/// without nesting the JSON. The limit is the text hasher's: serde recurses once per
/// level on the caller's stack, and a deep value (or a recursive type whose `Serialize`
/// never bottoms out) must be an error, not a stack overflow that aborts a program that
/// would run fine without the layer. Counted per container rather than per value, so a
/// flat object pays nothing per field.
#[inline]
fn depth(scratch: &Scratch) -> usize {
    scratch.open + scratch.depth
}

/// Serializes the value inside a wrapper one level further down.
#[inline]
pub(crate) fn nested<T: Serialize + ?Sized>(
    scratch: &mut Scratch,
    value: &T,
) -> Result<(), SerError> {
    if depth(scratch) >= MAX_DEPTH {
        return Err(too_deep(scratch));
    }
    scratch.depth += 1;
    let written = value.serialize(&mut *scratch);
    scratch.depth -= 1;
    written
}

/// A container may open only below the limit, as in the text hasher: 512 nested arrays
/// hash, 513 do not, whichever way they are given.
#[inline]
fn open_container(scratch: &mut Scratch) -> Result<(), SerError> {
    if depth(scratch) >= MAX_DEPTH {
        return Err(too_deep(scratch));
    }
    Ok(())
}

#[cold]
fn too_deep(scratch: &mut Scratch) -> SerError {
    fail(scratch, SerError::too_deep(MAX_DEPTH))
}

/// Writes `"Variant":` inside an already written `{`, for externally tagged variants.
#[inline]
fn begin_variant(scratch: &mut Scratch, variant: &'static str) {
    let object = scratch.begin_object();
    let _ = scratch.write_key(&object, variant);
}

impl<'a> ser::Serializer for &'a mut Scratch {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Map<'a>;
    type SerializeStructVariant = Map<'a>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), SerError> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_u128(self, v: u128) -> Result<(), SerError> {
        number::write_int(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), SerError> {
        number::write_f32(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), SerError> {
        number::write_f64(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_char(self, v: char) -> Result<(), SerError> {
        string::write_quoted(&mut self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), SerError> {
        string::write_quoted(&mut self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), SerError> {
        self.out.push(b'[');
        for (i, &byte) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            number::write_int(&mut self.out, byte);
        }
        self.out.push(b']');
        Ok(())
    }

    #[inline]
    fn serialize_none(self) -> Result<(), SerError> {
        self.serialize_unit()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), SerError> {
        nested(self, value)
    }

    #[inline]
    fn serialize_unit(self) -> Result<(), SerError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), SerError> {
        self.serialize_unit()
    }

    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), SerError> {
        self.serialize_str(variant)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        nested(self, value)
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        open_container(self)?;
        begin_variant(self, variant);
        nested(&mut *self, value).map_err(|e| fail(self, e.at(Segment::Field(variant.into()))))?;
        self.out.push(b'}');
        Ok(())
    }

    #[inline]
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, SerError> {
        open_container(self)?;
        Ok(Seq::begin(self, None))
    }

    #[inline]
    fn serialize_tuple(self, _len: usize) -> Result<Seq<'a>, SerError> {
        open_container(self)?;
        Ok(Seq::begin(self, None))
    }

    #[inline]
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Seq<'a>, SerError> {
        open_container(self)?;
        Ok(Seq::begin(self, None))
    }

    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'a>, SerError> {
        open_container(self)?;
        begin_variant(self, variant);
        Ok(Seq::begin(self, Some(variant)))
    }

    #[inline]
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'a>, SerError> {
        open_container(self)?;
        Ok(Map::begin(self, None))
    }

    #[inline]
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Map<'a>, SerError> {
        open_container(self)?;
        Ok(Map::begin(self, None))
    }

    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Map<'a>, SerError> {
        open_container(self)?;
        begin_variant(self, variant);
        Ok(Map::begin(self, Some(variant)))
    }

    #[inline]
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), SerError> {
        self.out.push(b'"');
        write_display(self, value)?;
        self.out.push(b'"');
        Ok(())
    }
}

/// Escapes `value`'s `Display` output into the buffer; returns whether anything was escaped.
#[inline]
fn write_display<T: fmt::Display + ?Sized>(
    scratch: &mut Scratch,
    value: &T,
) -> Result<bool, SerError> {
    let mut writer = EscapingWriter {
        out: &mut scratch.out,
        escaped: false,
    };
    write!(writer, "{value}")
        .map_err(|_| <SerError as ser::Error>::custom("its `Display` impl returned an error"))?;
    Ok(writer.escaped)
}

/// Marks the output unusable and passes the error on.
#[cold]
fn fail(scratch: &mut Scratch, error: SerError) -> SerError {
    scratch.poisoned = true;
    error
}

/// An array, or for a tuple variant the array inside `{"Variant":...}`.
pub(crate) struct Seq<'a> {
    scratch: &'a mut Scratch,
    len: usize,
    variant: Option<&'static str>,
}

impl<'a> Seq<'a> {
    #[inline]
    fn begin(scratch: &'a mut Scratch, variant: Option<&'static str>) -> Self {
        scratch.open += 1;
        scratch.out.push(b'[');
        Seq {
            scratch,
            len: 0,
            variant,
        }
    }

    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        if self.len > 0 {
            self.scratch.out.push(b',');
        }
        value.serialize(&mut *self.scratch).map_err(|e| {
            let e = e.at(Segment::Index(self.len));
            fail(self.scratch, within(e, self.variant))
        })?;
        self.len += 1;
        Ok(())
    }

    #[inline]
    fn end(self) -> Result<(), SerError> {
        self.scratch.open = self.scratch.open.saturating_sub(1);
        self.scratch.out.push(b']');
        if self.variant.is_some() {
            self.scratch.out.push(b'}');
        }
        Ok(())
    }
}

/// Adds the variant's name to the path of an error raised inside it.
#[cold]
fn within(error: SerError, variant: Option<&'static str>) -> SerError {
    match variant {
        Some(variant) => error.at(Segment::Field(variant.into())),
        None => error,
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), SerError> {
        Seq::end(self)
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), SerError> {
        Seq::end(self)
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), SerError> {
        Seq::end(self)
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), SerError> {
        Seq::end(self)
    }
}

/// An object (map or struct), or for a struct variant the object inside `{"Variant":...}`.
pub(crate) struct Map<'a> {
    scratch: &'a mut Scratch,
    object: Object,
    key: Option<KeySpan>,
    variant: Option<&'static str>,
}

impl<'a> Map<'a> {
    #[inline]
    fn begin(scratch: &'a mut Scratch, variant: Option<&'static str>) -> Self {
        scratch.open += 1;
        let object = scratch.begin_object();
        Map {
            scratch,
            object,
            key: None,
            variant,
        }
    }

    #[inline]
    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        let span = self.scratch.write_key(&self.object, key);
        self.value(span, value, |_| Segment::Field(key.into()))
    }

    #[inline]
    fn value<T: Serialize + ?Sized>(
        &mut self,
        key: KeySpan,
        value: &T,
        segment: impl FnOnce(&Scratch) -> Segment,
    ) -> Result<(), SerError> {
        value.serialize(&mut *self.scratch).map_err(|e| {
            let e = e.at(segment(self.scratch));
            fail(self.scratch, within(e, self.variant))
        })?;
        self.scratch.end_entry(key);
        Ok(())
    }

    #[inline]
    fn end(self) -> Result<(), SerError> {
        self.scratch.open = self.scratch.open.saturating_sub(1);
        if self.key.is_some() {
            self.scratch.poisoned = true;
        }
        self.scratch.end_object(&self.object);
        if self.variant.is_some() {
            self.scratch.out.push(b'}');
        }
        Ok(())
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        if self.key.is_some() {
            return Err(fail(
                self.scratch,
                SerError::protocol("two map keys without a value between them"),
            ));
        }
        self.scratch.separate(&self.object);
        let span = key
            .serialize(KeySerializer {
                scratch: self.scratch,
            })
            .map_err(|e| {
                let e = e.at(Segment::Key);
                fail(self.scratch, within(e, self.variant))
            })?;
        self.key = Some(span);
        Ok(())
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        let Some(key) = self.key.take() else {
            return Err(fail(
                self.scratch,
                SerError::protocol("a map value without a key"),
            ));
        };
        self.value(key, value, |scratch| Segment::Entry(scratch.key_text(&key)))
    }

    #[inline]
    fn end(self) -> Result<(), SerError> {
        Map::end(self)
    }
}

impl ser::SerializeStruct for Map<'_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        self.field(key, value)
    }

    #[inline]
    fn end(self) -> Result<(), SerError> {
        Map::end(self)
    }
}

impl ser::SerializeStructVariant for Map<'_> {
    type Ok = ();
    type Error = SerError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        self.field(key, value)
    }

    #[inline]
    fn end(self) -> Result<(), SerError> {
        Map::end(self)
    }
}

/// Serializes a map key: strings, chars and unit variants become JSON strings; anything
/// else is rejected rather than stringified, since Python would not have produced it.
struct KeySerializer<'a> {
    scratch: &'a mut Scratch,
}

impl KeySerializer<'_> {
    #[inline]
    fn key(self, key: &str) -> Result<KeySpan, SerError> {
        let start = self.scratch.out.len();
        self.scratch.out.push(b'"');
        let escaped = string::write_escaped(&mut self.scratch.out, key);
        Ok(self
            .scratch
            .close_key(start, escaped, prefix_of(key.as_bytes())))
    }
}

fn reject<T>(found: &str) -> Result<T, SerError> {
    Err(SerError::key_not_string(found))
}

impl KeySerializer<'_> {
    /// A scalar key the hash refuses, unless only the depth is being measured.
    fn refuse(self, found: &str) -> Result<KeySpan, SerError> {
        if self.scratch.lenient_keys {
            self.key("")
        } else {
            reject(found)
        }
    }
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = KeySpan;
    type Error = SerError;
    type SerializeSeq = Impossible<KeySpan, SerError>;
    type SerializeTuple = Impossible<KeySpan, SerError>;
    type SerializeTupleStruct = Impossible<KeySpan, SerError>;
    type SerializeTupleVariant = Impossible<KeySpan, SerError>;
    type SerializeMap = Impossible<KeySpan, SerError>;
    type SerializeStruct = Impossible<KeySpan, SerError>;
    type SerializeStructVariant = Impossible<KeySpan, SerError>;

    #[inline]
    fn serialize_str(self, v: &str) -> Result<KeySpan, SerError> {
        self.key(v)
    }

    fn serialize_char(self, v: char) -> Result<KeySpan, SerError> {
        self.key(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<KeySpan, SerError> {
        self.key(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<KeySpan, SerError> {
        let scratch = self.scratch;
        if depth(scratch) >= MAX_DEPTH {
            return Err(too_deep(scratch));
        }
        scratch.depth += 1;
        let key = value.serialize(KeySerializer {
            scratch: &mut *scratch,
        });
        scratch.depth -= 1;
        key
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<KeySpan, SerError> {
        let start = self.scratch.out.len();
        self.scratch.out.push(b'"');
        let escaped = write_display(self.scratch, value)?;
        let prefix = self.scratch.written_prefix(start);
        Ok(self.scratch.close_key(start, escaped, prefix))
    }

    fn serialize_bool(self, _v: bool) -> Result<KeySpan, SerError> {
        self.refuse("bool")
    }

    fn serialize_i8(self, _v: i8) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_i16(self, _v: i16) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_i32(self, _v: i32) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_i64(self, _v: i64) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_i128(self, _v: i128) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_u8(self, _v: u8) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_u16(self, _v: u16) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_u32(self, _v: u32) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_u64(self, _v: u64) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_u128(self, _v: u128) -> Result<KeySpan, SerError> {
        self.refuse("integer")
    }

    fn serialize_f32(self, _v: f32) -> Result<KeySpan, SerError> {
        self.refuse("float")
    }

    fn serialize_f64(self, _v: f64) -> Result<KeySpan, SerError> {
        self.refuse("float")
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<KeySpan, SerError> {
        self.refuse("bytes")
    }

    fn serialize_none(self) -> Result<KeySpan, SerError> {
        self.refuse("None")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<KeySpan, SerError> {
        self.refuse("Some(..)")
    }

    fn serialize_unit(self) -> Result<KeySpan, SerError> {
        self.refuse("unit")
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<KeySpan, SerError> {
        self.refuse(&format!("unit struct `{name}`"))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _value: &T,
    ) -> Result<KeySpan, SerError> {
        self.refuse(&format!("enum variant `{name}::{variant}`"))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, SerError> {
        reject("sequence")
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, SerError> {
        reject("tuple")
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, SerError> {
        reject(&format!("tuple struct `{name}`"))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        reject(&format!("enum variant `{name}::{variant}`"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        reject("map")
    }

    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, SerError> {
        reject(&format!("struct `{name}`"))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        reject(&format!("enum variant `{name}::{variant}`"))
    }
}

//! Describing wire types as JSON Schema (schemars), for the published contract: what
//! the derives cannot say by themselves.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

/// Writes a schema into a generator: a type's own, or a reference to it.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// A reference to `T`'s schema (defined once in the document's components).
pub fn reference<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// What `super::string_or_number` reads.
pub fn string_or_number(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": ["string", "integer", "null"] })
}

/// A flag that is always set (`read: true` in a read confirmation).
pub fn always_true(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "const": true })
}

/// `status: "ok"` in a reply.
pub fn ok_status(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "const": "ok" })
}

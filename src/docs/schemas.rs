//! The JSON Schemas of one document: what clients send is described as it is read
//! (defaults and optional fields), what pulso sends as it is written. Both draft 7,
//! with shared types under `#/components/schemas`, where AsyncAPI and OpenAPI keep them.

use schemars::{Schema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value};

use crate::domain::schema::SchemaFn;

pub struct Schemas {
    read: SchemaGenerator,
    written: SchemaGenerator,
}

impl Schemas {
    pub fn new() -> Self {
        let settings = SchemaSettings::draft07().with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        });
        Self {
            read: settings.clone().for_deserialize().into_generator(),
            written: settings.for_serialize().into_generator(),
        }
    }

    /// A schema of something a client sends.
    pub fn read(&mut self, schema: SchemaFn) -> Value {
        finish(&mut self.read, schema)
    }

    /// A schema of something pulso sends.
    pub fn written(&mut self, schema: SchemaFn) -> Value {
        finish(&mut self.written, schema)
    }

    /// Every shared type, by name. A type both read and written must read as it is
    /// written (`Money`, which does not, is inlined): the documents' tests, built in
    /// debug, would stop at one that differs.
    pub fn components(mut self) -> Map<String, Value> {
        let mut components = self.written.take_definitions(true);
        for (name, schema) in self.read.take_definitions(true) {
            let written = components.entry(name).or_insert_with(|| schema.clone());
            debug_assert_eq!(*written, schema, "a type reads unlike it is written");
        }
        components
    }
}

fn finish(generator: &mut SchemaGenerator, schema: SchemaFn) -> Value {
    let mut schema: Schema = schema(generator);
    for transform in generator.transforms_mut() {
        transform.transform(&mut schema);
    }
    schema.to_value()
}

// The published documents as ajv validators, compiled from the documents the server
// serves (not from a copy), so what is checked is what is published.
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** A JSON pointer (as a list of keys) written as a URI fragment ajv resolves. */
export function pointer(...keys) {
  return keys.map((key) => `/${encodeURIComponent(String(key).replaceAll('~', '~0').replaceAll('/', '~1'))}`).join('');
}

/**
 * The document with every object schema closed: JSON Schema leaves an object open to
 * properties it does not name, and a field the server sends that the document does not
 * describe is drift too. (Walks everything: no property of this API is named
 * `properties`.)
 */
function closed(node) {
  if (Array.isArray(node)) return node.map(closed);
  if (node === null || typeof node !== 'object') return node;
  const copy = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, closed(value)]));
  if (isSchemaMap(node.properties) && !('additionalProperties' in node)) copy.additionalProperties = false;
  return copy;
}

const isSchemaMap = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Compiles schemas of `doc` by their pointer; `#/components/...` refs resolve because
 * the document's sections are added under `id`. `Ajv` is the dialect: AsyncAPI's
 * schemas are draft 07, OpenAPI 3.1's are draft 2020-12.
 */
function compilerFor(AjvClass, id, doc, sections) {
  // Strict: an unknown keyword or format is an error, not silently ignored. Union types
  // (`["string", "null"]`) are how the documents say nullable.
  const ajv = new AjvClass({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv, ['date-time', 'int64']);
  // Rust's unsigned integers, as schemars names them.
  for (const name of ['uint', 'uint64']) {
    ajv.addFormat(name, { type: 'number', validate: (n) => Number.isInteger(n) && n >= 0 });
  }
  ajv.addVocabulary(sections); // the document's own sections, holding schemas but not keywords
  ajv.addSchema({ $id: id, ...closed(Object.fromEntries(sections.map((key) => [key, doc[key]]))) });
  return (path) => {
    const validate = ajv.compile({ $ref: `${id}#${path}` });
    return (value) => (validate(value) ? null : ajv.errorsText(validate.errors, { separator: '; ' }));
  };
}

/** AsyncAPI 3.0: `compile(pointer('components', 'messages', key, 'payload'))`. */
export const asyncapiCompiler = (doc) => compilerFor(Ajv, 'asyncapi', doc, ['components']);

/** OpenAPI 3.1: `compile(pointer('paths', path, method, ...))` or a component schema. */
export const openapiCompiler = (doc) => compilerFor(Ajv2020, 'openapi', doc, ['components', 'paths']);

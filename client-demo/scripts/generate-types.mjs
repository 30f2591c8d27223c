// Writes src/lib/websocket/contract.gen.ts from the server's published documents,
// ../docs/asyncapi.json and ../docs/openapi.json (a Rust test keeps them equal to what
// the server serves): the socket's messages and every shared type of both.
//   node scripts/generate-types.mjs           (npm run types) writes the file
//   node scripts/generate-types.mjs --check   (npm run types:check) fails when it is stale
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { compile } from 'json-schema-to-typescript';

const SOURCE = new URL('../../docs/asyncapi.json', import.meta.url);
const REST_SOURCE = new URL('../../docs/openapi.json', import.meta.url);
const TARGET = new URL('../src/lib/websocket/contract.gen.ts', import.meta.url);
const TARGET_NAME = 'src/lib/websocket/contract.gen.ts';

const BANNER = `// Generated from docs/asyncapi.json and docs/openapi.json by client-demo/scripts/generate-types.mjs: do not edit.
// Regenerate with \`npm run types\` in client-demo/; \`npm run build\` fails while this file is stale.`;

/** One root schema whose definitions are every shared schema and the maps built from the messages. */
function contractSchema(asyncapi, openapi) {
  // The refs point into components.schemas; they are moved under $defs, where
  // json-schema-to-typescript looks for definitions (nested under `components`, it
  // mistakes a `properties` holding an `items` field for an array schema).
  const toDefs = (doc) => JSON.parse(JSON.stringify(doc).replaceAll('"#/components/schemas/', '"#/$defs/'));
  const document = toDefs(asyncapi);
  const { messages } = document.components;
  const schemas = { ...toDefs(openapi).components.schemas };
  for (const [name, schema] of Object.entries(document.components.schemas)) {
    if (name in schemas && JSON.stringify(schemas[name]) !== JSON.stringify(schema)) {
      throw new Error(`docs/: the type ${name} differs between asyncapi.json and openapi.json`);
    }
    schemas[name] = schema;
  }

  const commands = {};
  const events = {};
  for (const [key, message] of Object.entries(messages)) {
    if (key.startsWith('command.')) {
      const ack = messages[key.replace('command.', 'ack.')];
      commands[message.name] = closedObject({
        payload: anyValueIfUnconstrained(message.payload),
        result: ackData(ack, message.name),
      });
    } else if (key.startsWith('event.')) {
      events[message.name] = message.payload;
    }
  }

  // Rooms with a fixed name: channels whose address is a plain room (not the namespace
  // `/`, not a pattern like `order:{id}`, not `everyone`, which has no address).
  const topicRooms = Object.values(document.channels)
    .map((channel) => channel.address)
    .filter((address) => typeof address === 'string' && address !== '/' && !address.includes('{'));

  return {
    title: 'PulsoContract',
    description: "pulso's wire contract: the commands a client sends and the events it receives.",
    ...closedObject({ commands: { $ref: '#/$defs/Commands' }, events: { $ref: '#/$defs/ServerEvents' } }),
    $defs: {
      ...schemas,
      Commands: {
        description: 'Each command (an event sent with an ack): its payload, and the `data` of a successful ack.',
        ...closedObject(commands),
      },
      ServerEvents: {
        description: 'Each server → client event and its payload (logged events arrive in their envelope).',
        ...closedObject(events),
      },
      TopicRoom: { description: 'A room with a fixed name, joined with `join_room`.', type: 'string', enum: topicRooms },
    },
  };
}

function closedObject(properties) {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/** The `data` of an ack's success branch (`{ ok: true, data }`). */
function ackData(ack, command) {
  const success = ack?.payload.oneOf?.find((branch) => branch.properties?.ok?.const === true);
  if (!success) throw new Error(`docs/asyncapi.json: no { ok: true, data } ack for the command ${command}`);
  return success.properties.data;
}

/** A schema with only a description accepts any value; the generator would make it an open object. */
function anyValueIfUnconstrained(schema) {
  const annotationsOnly = Object.keys(schema).every((key) => key === 'description' || key === 'title');
  return annotationsOnly ? { ...schema, tsType: 'unknown' } : schema;
}

const read = (url) => JSON.parse(readFileSync(url, 'utf8'));
const generated = await compile(contractSchema(read(SOURCE), read(REST_SOURCE)), 'PulsoContract', {
  bannerComment: BANNER,
  // Emit every shared schema, also those no command or event refers to (ApiError, ...).
  unreachableDefinitions: true,
  // The server's objects have exactly the fields listed: no index signatures.
  additionalProperties: false,
  // Plain arrays: the server checks list lengths and answers a field error a form shows.
  ignoreMinAndMaxItems: true,
  style: { singleQuote: true, printWidth: 120 },
});

if (process.argv.includes('--check')) {
  const committed = existsSync(TARGET) ? readFileSync(TARGET, 'utf8') : null;
  if (committed !== generated) {
    console.error(
      `${TARGET_NAME} does not match docs/asyncapi.json and docs/openapi.json: run \`npm run types\` in client-demo/ and commit the result.`,
    );
    process.exit(1);
  }
} else {
  writeFileSync(TARGET, generated);
  console.log(`wrote ${TARGET_NAME}`);
}

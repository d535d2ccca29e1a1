import { isDeepStrictEqual } from 'node:util';
import { serializerCompiler } from 'fastify-type-provider-zod';

type SerializerCompiler = Parameters<typeof serializerCompiler>[0];

/**
 * How answers become JSON. Every handler builds its answer from the output type of its route's schema (the type
 * provider checks that at compile time), so the server sends it as built: validating a page of tickets against its
 * zod schema on the way out took three times as long as writing it, and a compiled fast-json-stringify serializer
 * is slower than JSON.stringify on documents made of strings.
 *
 * `checked` (the default of buildApp, so every API test runs with it) encodes each answer with its schema as well
 * and refuses one that the schema would change: an extra field, a wrong type, a missing key. What passes there is
 * what production sends without the check.
 */
export function answerSerializer(checked: boolean): (route: SerializerCompiler) => (data: unknown) => string {
  if (!checked) return () => (data) => JSON.stringify(data);
  return (route) => {
    const encode = serializerCompiler(route);
    return (data) => {
      const json = encode(data);
      const asBuilt = JSON.stringify(data);
      if (json !== asBuilt && !isDeepStrictEqual(JSON.parse(json), JSON.parse(asBuilt))) {
        throw new Error(`${route.method} ${route.url}: the answer as built differs from its schema's encoding:\n${asBuilt.slice(0, 2000)}\n${json.slice(0, 2000)}`);
      }
      return json;
    };
  };
}

import type { SwaggerTransformObject } from '@fastify/swagger';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { apiSchemaRegistry } from './schemas.ts';

export const transformRouteSchema = createJsonSchemaTransform({ skipList: [], schemaRegistry: apiSchemaRegistry });

const addComponents = createJsonSchemaTransformObject({ schemaRegistry: apiSchemaRegistry });

/**
 * The zod provider emits every registered schema twice (input and output variants); our named schemas
 * are response bodies, so keep only the components the paths actually reach.
 */
export const transformOpenApiDocument: SwaggerTransformObject = (document) => {
  const doc = addComponents(document) as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = doc.components?.schemas;
  if (!schemas) return doc as ReturnType<SwaggerTransformObject>;
  const reached = new Set<string>();
  const pending = [...collectRefs(doc.paths)];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (reached.has(name) || !(name in schemas)) continue;
    reached.add(name);
    pending.push(...collectRefs(schemas[name]));
  }
  doc.components = {
    ...doc.components,
    schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => reached.has(name))),
  };
  return doc as ReturnType<SwaggerTransformObject>;
};

function collectRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, found);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
        found.push(value.slice('#/components/schemas/'.length));
      } else {
        collectRefs(value, found);
      }
    }
  }
  return found;
}

import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateOpenApiDocument, renderOpenApiDocument } from './openapi-document';

/** `npm run openapi`: rewrites the committed openapi.json at the repository root. */
generateOpenApiDocument().then(
  (document) => {
    const target = resolve(process.argv[2] ?? 'openapi.json');
    writeFileSync(target, renderOpenApiDocument(document));
    console.log(`wrote ${target}`);
  },
  (err: Error) => {
    console.error(`openapi: ${err.message}`);
    process.exit(1);
  },
);

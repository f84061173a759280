import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateOpenApiDocument, renderOpenApiDocument } from './openapi-document';

describe('openapi.json', () => {
  it('is what the API describes (run `npm run openapi` after changing a route or DTO)', async () => {
    const committed = readFileSync(resolve(__dirname, '../../../../openapi.json'), 'utf8');
    expect(renderOpenApiDocument(await generateOpenApiDocument())).toEqual(committed);
  });
});

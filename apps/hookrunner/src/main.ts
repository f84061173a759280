import 'reflect-metadata';
import { validateEnvironment } from '@hookrunner/config';
import { serve } from '@hookrunner/observability';
import { ensureRedis } from './ensure-redis';
import { serveApiDocs } from '../../api/src/openapi/openapi-document';
import { HookrunnerModule } from './hookrunner.module';
import { ensureLocalSecrets } from './local-secrets';

async function main(): Promise<void> {
  const env = validateEnvironment(process.env);
  await ensureRedis(env.REDIS_URL, !process.env.REDIS_URL, (line) => console.log(line));
  ensureLocalSecrets(process.env, (line) => console.log(line));
  serve(HookrunnerModule, 'hookrunner', (c) => c.http.port, serveApiDocs);
}

main().catch((err: Error) => {
  console.error(`hookrunner: ${err.message}`);
  process.exit(1);
});

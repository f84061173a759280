import 'reflect-metadata';
import { loadConfig } from '@hookrunner/config';
import { serve } from '@hookrunner/observability';
import { ensureRedis } from './ensure-redis';
import { serveApiDocs } from '../../api/src/openapi/openapi-document';
import { HookrunnerModule } from './hookrunner.module';
import { ensureLocalSecrets } from './local-secrets';

async function main(): Promise<void> {
  // The local API key and SECRETS_KEY are set in the environment before it is read, once.
  ensureLocalSecrets(process.env, (line) => console.log(line));
  const config = loadConfig(process.env, { requireSecretsKey: true });
  if (!config.redisClusterNodes)
    await ensureRedis(config.redisUrl, !process.env.REDIS_URL, (line) => console.log(line));
  serve({ role: 'hookrunner', module: HookrunnerModule, port: (c) => c.http.port, config, configure: serveApiDocs });
}

main().catch((err: Error) => {
  console.error(`hookrunner: ${err.message}`);
  process.exit(1);
});

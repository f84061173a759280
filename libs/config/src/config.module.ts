import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';

/** The one typed configuration object, built by loadConfig at boot. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** The key sealing secrets at rest (a Buffer): provided only when SECRETS_KEY is set. */
export const SECRETS_KEY = Symbol('SECRETS_KEY');

/**
 * Provides the configuration loaded (and validated) once per process by loadConfig; nothing here
 * reads the environment again.
 */
@Global()
@Module({})
export class HookrunnerConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    const providers = [{ provide: APP_CONFIG, useValue: config }];
    if (config.secretsKey) providers.push({ provide: SECRETS_KEY, useValue: config.secretsKey as never });
    return { module: HookrunnerConfigModule, providers, exports: providers.map((p) => p.provide) };
  }
}

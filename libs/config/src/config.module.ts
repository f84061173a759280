import { Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AppConfig, toAppConfig } from './app-config';
import { Environment, validateEnvironment } from './environment';

export const APP_CONFIG = Symbol('APP_CONFIG');

/** Validates process.env at boot (a bad value stops the process naming the variable) and provides AppConfig. */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ ignoreEnvFile: true, validate: validateEnvironment, cache: true })],
  providers: [
    {
      provide: APP_CONFIG,
      inject: [ConfigService],
      useFactory: (config: ConfigService): AppConfig => {
        const env = Object.fromEntries(Object.keys(new Environment()).map((k) => [k, config.get(k)]));
        return toAppConfig(env as unknown as Environment);
      },
    },
  ],
  exports: [APP_CONFIG],
})
export class HookrunnerConfigModule {}

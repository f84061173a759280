import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { InvalidExampleParams } from './examples';

/** The one place an example's refusal becomes HTTP: 400 `{ error }`. */
@Catch(InvalidExampleParams)
export class InvalidParamsFilter implements ExceptionFilter<InvalidExampleParams> {
  catch(error: InvalidExampleParams, host: ArgumentsHost): void {
    void host.switchToHttp().getResponse<FastifyReply>().status(400).send({ error: error.message });
  }
}

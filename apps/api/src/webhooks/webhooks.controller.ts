import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import type { WebhookDefinition } from '@hookrunner/contracts';
import { IdentifierPipe } from '../common/identifier.pipe';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { DefinitionsService, presentDefinition } from './definitions.service';
import { CreateWebhookDto, ReplaceWebhookDto, TestWebhookDto } from './dto/webhook.dto';
import { WebhookTestService, WebhookTestReport } from './webhook-test.service';
import { DefinitionWithHealth, WebhookHealthService } from './webhook-health.service';

@Controller('v1/bots/:botId/webhooks')
export class WebhooksController {
  constructor(
    private readonly definitions: DefinitionsService,
    private readonly tester: WebhookTestService,
    private readonly health: WebhookHealthService,
  ) {}

  @Post()
  async create(@Param('botId', IdentifierPipe) botId: string, @Body() body: CreateWebhookDto): Promise<WebhookDefinition> {
    return presentDefinition(await this.definitions.create(botId, body));
  }

  @Get()
  async list(@Param('botId', IdentifierPipe) botId: string): Promise<{ webhooks: DefinitionWithHealth[] }> {
    return { webhooks: await this.health.withHealth((await this.definitions.list(botId)).map(presentDefinition)) };
  }

  @Get(':name')
  async get(@Param('botId', IdentifierPipe) botId: string, @Param('name') name: string): Promise<DefinitionWithHealth> {
    const [definition] = await this.health.withHealth([presentDefinition(await this.definitions.get(botId, name))]);
    return definition;
  }

  /** Replaces the whole definition; `name` in the body, if given, must match the path. */
  @Put(':name')
  async replace(
    @Param('botId', IdentifierPipe) botId: string,
    @Param('name') name: string,
    @Body() body: ReplaceWebhookDto,
  ): Promise<WebhookDefinition> {
    assertNameMatches(name, body);
    return presentDefinition(await this.definitions.replace(botId, name, body));
  }

  @Delete(':name')
  @HttpCode(204)
  async delete(@Param('botId', IdentifierPipe) botId: string, @Param('name') name: string): Promise<void> {
    await this.definitions.delete(botId, name);
  }

  /** Performs the call once, now: no retry, no state change. What the author's "test" button runs. */
  @Post(':name/test')
  @HttpCode(200)
  async test(@Param('botId', IdentifierPipe) botId: string, @Param('name') name: string, @Body() body: TestWebhookDto): Promise<WebhookTestReport> {
    return this.tester.run(botId, await this.definitions.get(botId, name), body);
  }
}

function assertNameMatches(path: string, body: { name?: unknown }): void {
  if (body.name !== undefined && body.name !== path) {
    throw new DomainError(ErrorCode.InvalidInput, `name in the body (${JSON.stringify(body.name)}) must match the path (${JSON.stringify(path)})`);
  }
}

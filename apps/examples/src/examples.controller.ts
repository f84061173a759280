import { applyDecorators, Body, Controller, Get, HttpCode, Post, Query, UseFilters } from '@nestjs/common';
import { isPlainObject } from '@hookrunner/webhook';
import { ExampleParams, memory, quickreplies, randomNumber, responses, userAttributes } from './examples';
import { InvalidParamsFilter } from './invalid-params.filter';

/** A webhook may be configured as GET (params in the query) or POST (params in the JSON body). */
const PostOk = (path: string) => applyDecorators(Post(path), HttpCode(200));
const bodyParams = (body: unknown): ExampleParams => (isPlainObject(body) ? body : {});

@Controller()
@UseFilters(InvalidParamsFilter)
export class ExamplesController {
  @Get('random_number') randomNumberByGet(@Query() query: ExampleParams) {
    return randomNumber(query);
  }
  @PostOk('random_number') randomNumberByPost(@Body() body: unknown) {
    return randomNumber(bodyParams(body));
  }

  @Get('responses') responsesByGet() {
    return responses();
  }
  @PostOk('responses') responsesByPost() {
    return responses();
  }

  @Get('memory') memoryByGet(@Query() query: ExampleParams) {
    return memory(query);
  }
  @PostOk('memory') memoryByPost(@Body() body: unknown) {
    return memory(bodyParams(body));
  }

  @Get('user_attributes') userAttributesByGet(@Query() query: ExampleParams) {
    return userAttributes(query);
  }
  @PostOk('user_attributes') userAttributesByPost(@Body() body: unknown) {
    return userAttributes(bodyParams(body));
  }

  @Get('quickreplies') quickrepliesByGet() {
    return quickreplies();
  }
  @PostOk('quickreplies') quickrepliesByPost() {
    return quickreplies();
  }
}

import fc from 'fast-check';
import { InvalidExampleParams, memory, quickreplies, randomNumber, responses, userAttributes } from './examples';

describe(randomNumber.name, () => {
  const sut = randomNumber;

  it('answers with the number in a response and in memory', () => {
    expect(sut({ min: '10', max: '20' }, () => 0.4)).toEqual({
      responses: ['Your random number is 14'],
      memory: { random_number: 14 },
    });
  });

  it('includes both bounds', () => {
    expect(sut({ min: 10, max: 20 }, () => 0).memory).toEqual({ random_number: 10 });
    expect(sut({ min: 10, max: 20 }, () => 1 - Number.EPSILON).memory).toEqual({ random_number: 20 });
  });

  it('stays within [min, max] for any bounds and any random draw', () => {
    fc.assert(
      fc.property(
        fc.maxSafeInteger(),
        fc.maxSafeInteger(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (a, b, draw) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const value = sut({ min: String(min), max: String(max) }, () => draw).memory!.random_number as number;
          return Number.isInteger(value) && value >= min && value <= max;
        },
      ),
    );
  });

  it.each([
    [{}],
    [{ min: '10' }],
    [{ min: 'ten', max: '20' }],
    [{ min: '1.5', max: '20' }],
    [{ min: '21', max: '20' }],
    [{ min: ['1', '2'], max: '20' }],
    [{ min: 1, max: null }],
  ])('refuses %j', (params) => {
    expect(() => sut(params)).toThrow(new InvalidExampleParams('min and max must be integers with min <= max'));
  });
});

describe(responses.name, () => {
  it('answers two lines', () => {
    expect(responses()).toEqual({ responses: ['Hello from the webhook!', 'This line was added by a webhook.'] });
  });
});

describe(memory.name, () => {
  const sut = memory;

  it('remembers chocolate by default, with a merge tag to read it back', () => {
    expect(sut({})).toEqual({
      memory: { 'favourite-thing': 'chocolate' },
      responses: ['I will remember that you like {{memory.favourite-thing}}.'],
    });
  });

  it('remembers the thing it is given', () => {
    expect(sut({ thing: 'tea' }).memory).toEqual({ 'favourite-thing': 'tea' });
  });

  it('refuses a thing that is not a string', () => {
    expect(() => sut({ thing: 42 })).toThrow(InvalidExampleParams);
  });
});

describe(userAttributes.name, () => {
  const sut = userAttributes;

  it('sets age 25 by default, with a merge tag to read it back', () => {
    expect(sut({})).toEqual({ user_attributes: { age: 25 }, responses: ['You are {{user.age}} years old.'] });
  });

  it.each([
    ['31', 31],
    [31, 31],
    ['7.5', 7.5],
  ])('stores age %j as the number %j', (age, expected) => {
    expect(sut({ age }).user_attributes).toEqual({ age: expected });
  });

  it.each([['old'], [true], [{}]])('refuses age %j', (age) => {
    expect(() => sut({ age })).toThrow(new InvalidExampleParams('age must be a number'));
  });
});

describe(quickreplies.name, () => {
  it('offers three options', () => {
    expect(quickreplies()).toEqual({ responses: ['Pick one'], quickreplies: ['Yes', 'No', 'Maybe'] });
  });
});

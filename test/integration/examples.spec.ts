import { AppProcess, freePort, spawnApp, startApp } from '../support';

describe('examples app', () => {
  let app: AppProcess;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    app = await startApp('examples', { EXAMPLES_PORT: String(port) });
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(() => app?.stop());

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: await res.json() };
  };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };

  it('answers GET /health', async () => {
    expect(await get('/health')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  describe('/random_number', () => {
    const expectNumberIn = (reply: { status: number; body: any }, min: number, max: number): number => {
      expect(reply.status).toBe(200);
      const value = reply.body.memory.random_number;
      expect(Number.isInteger(value) && value >= min && value <= max).toBe(true);
      expect(reply.body).toEqual({ responses: [`Your random number is ${value}`], memory: { random_number: value } });
      return value;
    };

    it('takes min and max from the query of a GET', async () => {
      expectNumberIn(await get('/random_number?min=10&max=20'), 10, 20);
    });

    it('takes min and max from the body of a POST', async () => {
      expectNumberIn(await post('/random_number', { min: 10, max: 20 }), 10, 20);
    });

    it('draws every integer of [min, max], bounds included, and nothing else', async () => {
      const seen = new Set<number>();
      for (let i = 0; i < 150; i++) {
        const reply =
          i % 2 ? await get('/random_number?min=-1&max=1') : await post('/random_number', { min: '-1', max: '1' });
        seen.add(expectNumberIn(reply, -1, 1));
      }
      expect([...seen].sort()).toEqual([-1, 0, 1]);
    });

    it.each(['', '?min=10', '?min=ten&max=20', '?min=1.5&max=2', '?min=21&max=20'])(
      'answers 400 to GET %s',
      async (query) => {
        expect(await get(`/random_number${query}`)).toEqual({
          status: 400,
          body: { error: 'min and max must be integers with min <= max' },
        });
      },
    );

    it('answers 400 to a POST without max', async () => {
      expect(await post('/random_number', { min: 1 })).toEqual({
        status: 400,
        body: { error: 'min and max must be integers with min <= max' },
      });
    });
  });

  it.each([['GET'], ['POST']])('/responses answers two lines to %s', async (method) => {
    const reply = method === 'GET' ? await get('/responses') : await post('/responses', {});
    expect(reply).toEqual({
      status: 200,
      body: { responses: ['Hello from the webhook!', 'This line was added by a webhook.'] },
    });
  });

  describe('/memory', () => {
    const body = (thing: string) => ({
      memory: { 'favourite-thing': thing },
      responses: ['I will remember that you like {{memory.favourite-thing}}.'],
    });

    it('remembers chocolate by default', async () => {
      expect(await get('/memory')).toEqual({ status: 200, body: body('chocolate') });
      expect(await post('/memory', {})).toEqual({ status: 200, body: body('chocolate') });
    });

    it('remembers the thing given by GET or POST', async () => {
      expect(await get('/memory?thing=green%20tea')).toEqual({ status: 200, body: body('green tea') });
      expect(await post('/memory', { thing: 'kaya toast' })).toEqual({ status: 200, body: body('kaya toast') });
    });
  });

  describe('/user_attributes', () => {
    const body = (age: number) => ({ user_attributes: { age }, responses: ['You are {{user.age}} years old.'] });

    it('sets age 25 by default', async () => {
      expect(await get('/user_attributes')).toEqual({ status: 200, body: body(25) });
      expect(await post('/user_attributes', {})).toEqual({ status: 200, body: body(25) });
    });

    it('sets the age given by GET or POST, as a number', async () => {
      expect(await get('/user_attributes?age=31')).toEqual({ status: 200, body: body(31) });
      expect(await post('/user_attributes', { age: 42 })).toEqual({ status: 200, body: body(42) });
    });

    it('answers 400 to an age that is not a number', async () => {
      expect(await get('/user_attributes?age=old')).toEqual({ status: 400, body: { error: 'age must be a number' } });
    });
  });

  it.each([['GET'], ['POST']])('/quickreplies offers three options to %s', async (method) => {
    const reply = method === 'GET' ? await get('/quickreplies') : await post('/quickreplies', {});
    expect(reply).toEqual({ status: 200, body: { responses: ['Pick one'], quickreplies: ['Yes', 'No', 'Maybe'] } });
  });
});

describe('examples app with an invalid EXAMPLES_PORT', () => {
  it.each(['0', '65536', 'http', '80.5'])('exits non-zero naming the variable when EXAMPLES_PORT=%j', async (port) => {
    const app = spawnApp('examples', { EXAMPLES_PORT: port });
    try {
      const { code } = await app.exited;
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(app.output()).toContain('EXAMPLES_PORT');
    } finally {
      await app.stop();
    }
  });
});

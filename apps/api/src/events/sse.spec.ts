import { sseComment, sseMessage } from './sse';

describe(sseMessage.name, () => {
  it('frames id, event and data, ending with a blank line', () => {
    const sut = sseMessage({ id: 'call-1', event: 'call.succeeded', data: '{"a":1}' });
    expect(sut).toBe('id: call-1\nevent: call.succeeded\ndata: {"a":1}\n\n');
  });

  it('turns every line of data into its own data line, whatever the line break', () => {
    expect(sseMessage({ data: 'one\ntwo\r\nthree\rfour' })).toBe('data: one\ndata: two\ndata: three\ndata: four\n\n');
  });

  it('keeps id and event on one line, so they cannot inject fields', () => {
    const sut = sseMessage({ id: 'a\n\ndata: x\0', event: 'e\r\nid: y', data: '' });
    expect(sut).toBe('id: a data: x \nevent: e id: y\ndata: \n\n');
  });
});

describe(sseComment.name, () => {
  it('is one comment line and a blank line', () => {
    expect(sseComment('heart\nbeat')).toBe(': heart beat\n\n');
  });
});

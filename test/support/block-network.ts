import nock from 'nock';

// Integration tests may talk to loopback only (Azurite, the server under test, fakes on 127.0.0.1).
nock.disableNetConnect();
nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host));

afterEach(() => {
  nock.cleanAll();
});

// Jest reuses workers across test files and projects, and nock patches Node's http globally:
// undo it after each file so the next file starts from plain Node.
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});

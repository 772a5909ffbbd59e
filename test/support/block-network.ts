import nock from 'nock';

// Integration tests may talk to loopback only (Azurite, the server under test, fakes on 127.0.0.1).
nock.disableNetConnect();
nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host));

afterEach(() => {
  nock.cleanAll();
});

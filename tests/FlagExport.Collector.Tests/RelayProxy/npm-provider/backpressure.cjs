// Evaluates a flag for USERS distinct users with go-feature-flag's OpenFeature JS provider against ENDPOINT (the
// collector), each twice so that the second, cached, evaluation is collected: one event per user. The provider sends
// what it collected every FLUSH_MS and keeps what a failed send carried. Prints "evaluated" once done, waits for a line
// on standard input, then closes the provider (its last send) and prints one JSON line: the users and the failed sends.
'use strict';

const readline = require('node:readline');
const { OpenFeature } = require('@openfeature/server-sdk');
const { GoFeatureFlagProvider } = require('@openfeature/go-feature-flag-provider');

async function main() {
  const users = Number(process.env.USERS);
  let failedSends = 0;
  const logger = {
    error: (message) => { if (String(message).includes('impossible to send the data')) failedSends++; },
    warn: () => {}, info: () => {}, debug: () => {},
  };
  const provider = new GoFeatureFlagProvider({
    endpoint: process.env.ENDPOINT,
    timeout: 10000,
    flagCacheTTL: 3600000,
    flagCacheSize: users + 1,
    dataFlushInterval: Number(process.env.FLUSH_MS),
  }, logger);
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();

  // A few users at a time, so that the collector receives sends while evaluations go on.
  const parallel = 8;
  for (let first = 0; first < users; first += parallel) {
    const batch = [];
    for (let user = first; user < Math.min(first + parallel, users); user++) {
      batch.push((async () => {
        const context = { targetingKey: `user-${user}` };
        await client.getBooleanDetails('bool-flag', false, context);
        const cached = await client.getBooleanDetails('bool-flag', false, context);
        if (cached.reason !== 'CACHED') {
          throw new Error(`the second evaluation for user-${user} was ${cached.reason}, not CACHED`);
        }
      })());
    }
    await Promise.all(batch);
  }

  process.stdout.write('evaluated\n');
  const lines = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => lines.once('line', resolve));
  lines.close();
  await OpenFeature.close();
  process.stdout.write(JSON.stringify({ users, failedSends }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});

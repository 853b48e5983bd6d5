// Evaluates flags with go-feature-flag's OpenFeature JS provider against ENDPOINT (the collector), then closes the
// provider, which sends the collected evaluations to ENDPOINT/v1/data/collector. Prints one JSON line: the evaluations
// in order, as the application sees them. Modules are found through NODE_PATH (the tests' npm cache folder).
'use strict';

const { OpenFeature } = require('@openfeature/server-sdk');
const { GoFeatureFlagProvider } = require('@openfeature/go-feature-flag-provider');

async function main() {
  const provider = new GoFeatureFlagProvider({
    endpoint: process.env.ENDPOINT,
    apiKey: process.env.API_KEY,
    timeout: 10000,
    flagCacheTTL: 3600000,
    // Long enough never to fire during the run: the close sends everything, in one request.
    dataFlushInterval: 3600000,
  });
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  const user = { targetingKey: 'user-1', email: 'one@example.com' };
  const anonymous = { targetingKey: 'anon-1', anonymous: true };

  const plan = [
    ['boolean', 'bool-flag', false, user], ['boolean', 'bool-flag', false, user], ['boolean', 'bool-flag', false, user],
    ['string', 'string-flag', 'default', user], ['string', 'string-flag', 'default', user], ['string', 'string-flag', 'default', user],
    ['number', 'number-flag', 0, user], ['number', 'number-flag', 0, user],
    ['object', 'object-flag', {}, user], ['object', 'object-flag', {}, user],
    ['boolean', 'uncached-flag', false, user], ['boolean', 'uncached-flag', false, user],
    ['boolean', 'bool-flag', false, anonymous], ['boolean', 'bool-flag', false, anonymous],
  ];
  const evaluations = [];
  for (const [type, key, defaultValue, context] of plan) {
    let details;
    switch (type) {
      case 'boolean': details = await client.getBooleanDetails(key, defaultValue, context); break;
      case 'string': details = await client.getStringDetails(key, defaultValue, context); break;
      case 'number': details = await client.getNumberDetails(key, defaultValue, context); break;
      default: details = await client.getObjectDetails(key, defaultValue, context); break;
    }
    evaluations.push({ key, value: details.value, variant: details.variant ?? null, reason: details.reason, errorCode: details.errorCode ?? null });
  }

  await OpenFeature.close();
  process.stdout.write(JSON.stringify(evaluations) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});

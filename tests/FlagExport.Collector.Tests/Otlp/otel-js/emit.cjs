// Emits feature_flag.evaluation events with the real OpenTelemetry JavaScript SDK and one of its OTLP exporters, as an
// application instrumented with OpenTelemetry does, then flushes and shuts the SDK down. Modules are found through
// NODE_PATH (the tests' npm cache folder).
//
// Environment:
//   ENDPOINT        the collector: its HTTP base address (http://127.0.0.1:NNNN) or, for grpc, its gRPC address
//   PROTOCOL        http-json | http-proto | grpc
//   SIGNAL          logs (default): one log record per evaluation; traces: one span per evaluation, carrying the
//                   evaluation as a span event
//   API_KEY         sent as "Authorization: Bearer <key>", or in X-API-Key when API_KEY_HEADER=x-api-key; none when empty
//   EVALUATIONS     a JSON file: [{"timeUnixMs": 1700000000123, "attributes": {...}, "legacyEventName": false}, ...];
//                   legacyEventName puts the event's name in the event.name attribute (older SDKs) instead of the log
//                   record's event name, or names the span event "feature_flag" (the first OpenFeature hooks)
//   SERVICE_NAME    the resource's service.name
//   COMPRESSION     gzip | none (default none)
//   TIMEOUT_MS      the exporter's timeout, which bounds its retries (default 10000, the SDK's own default)
//   BATCH_SIZE      log records or spans per export request (default 512, the SDK's own default)
//
// Besides the evaluations it emits records that are not flag evaluations (FlagExport ignores them): a plain log line,
// an event of another name, a record with flag attributes but no event name; for traces, spans without events and a
// span event of another name.
//
// Prints one JSON line: {"exports":[{"count":N,"code":0|1,"error":"...","contextIds":[...]}], "diag":["..."]} - each
// export call the processor made (code 0 is success, after the exporter's own retries) with the context ids of what it
// carried, and every message the SDK logged at info or above (partial successes, undecodable answers, retries given up).
'use strict';

const fs = require('node:fs');
const api = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const protocol = process.env.PROTOCOL;
const signal = process.env.SIGNAL || 'logs';
const endpoint = process.env.ENDPOINT;
const apiKey = process.env.API_KEY || '';
const apiKeyHeader = (process.env.API_KEY_HEADER || 'authorization').toLowerCase();
const compression = process.env.COMPRESSION || 'none';
const timeoutMillis = Number(process.env.TIMEOUT_MS || 10000);
const batchSize = Number(process.env.BATCH_SIZE || 512);
const evaluations = JSON.parse(fs.readFileSync(process.env.EVALUATIONS, 'utf8'));

// What the SDK logs, each message cut to its first line (errors come with their stack).
const diagnostics = [];
const record = (level) => (...args) => diagnostics.push(`${level}: ${args.map(String).join(' ')}`.split(/\n|\\n/)[0].slice(0, 500));
api.diag.setLogger({
  error: record('error'),
  warn: record('warn'),
  info: record('info'),
  debug: () => {},
  verbose: () => {},
}, api.DiagLogLevel.INFO);

function headerValue() {
  return apiKeyHeader === 'x-api-key' ? apiKey : `Bearer ${apiKey}`;
}

function exporterConfig(path) {
  const config = { timeoutMillis, compression };
  if (protocol === 'grpc') {
    config.url = endpoint;
    if (apiKey) {
      const { Metadata } = require('@grpc/grpc-js');
      const metadata = new Metadata();
      metadata.set(apiKeyHeader, headerValue());
      config.metadata = metadata;
    }
  } else {
    config.url = `${endpoint.replace(/\/$/, '')}/${path}`;
    config.headers = apiKey ? { [apiKeyHeader === 'x-api-key' ? 'X-API-Key' : 'Authorization']: headerValue() } : {};
  }
  return config;
}

function exporterPackage() {
  const kind = signal === 'traces' ? 'trace' : 'logs';
  switch (protocol) {
    case 'http-json': return `@opentelemetry/exporter-${kind}-otlp-http`;
    case 'http-proto': return `@opentelemetry/exporter-${kind}-otlp-proto`;
    case 'grpc': return `@opentelemetry/exporter-${kind}-otlp-grpc`;
    default: throw new Error(`PROTOCOL must be http-json, http-proto or grpc, not '${protocol}'`);
  }
}

// Flushes and shuts the SDK down; a failed export rejects the tracing SDK's flush (the logs SDK only logs it): the
// exports' results say what failed, the rejection is kept with the diagnostics.
async function flushAndShutDown(provider) {
  for (const step of ['forceFlush', 'shutdown']) {
    try {
      await provider[step]();
    } catch (error) {
      diagnostics.push(`${step} rejected: ${String(error && error.message ? error.message : error)}`);
    }
  }
}

// The feature_flag.context.id of a log record, or of a span's first event: which evaluations an export carried.
function contextId(item) {
  const attributes = item.events ? (item.events[0] || {}).attributes : item.attributes;
  return attributes && attributes['feature_flag.context.id'] !== undefined ? String(attributes['feature_flag.context.id']) : null;
}

// Wraps the exporter so that what each export call reported is printed at the end.
const results = [];
function recording(exporter) {
  return {
    export(items, resultCallback) {
      exporter.export(items, (result) => {
        results.push({
          count: items.length,
          code: result.code,
          error: result.error ? String(result.error.message || result.error) : null,
          // The HTTP status, or the gRPC status code, of a refusal.
          status: result.error && result.error.code !== undefined ? Number(result.error.code) : null,
          contextIds: items.map(contextId),
        });
        resultCallback(result);
      });
    },
    forceFlush: () => (exporter.forceFlush ? exporter.forceFlush() : Promise.resolve()),
    shutdown: () => exporter.shutdown(),
  };
}

const resource = resourceFromAttributes({ 'service.name': process.env.SERVICE_NAME || 'otel-js-test' });
const processorOptions = {
  maxExportBatchSize: batchSize,
  maxQueueSize: Math.max(2048, evaluations.length + 16),
  // An export may wait for the exporter's retries: it is cut short only by the exporter's own timeout.
  exportTimeoutMillis: timeoutMillis + 5000,
  scheduledDelayMillis: 200,
};

async function emitLogs() {
  const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
  const { OTLPLogExporter } = require(exporterPackage());
  const exporter = recording(new OTLPLogExporter(exporterConfig('v1/logs')));
  const provider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter, ...processorOptions })] });
  const logger = provider.getLogger('flagexport-otel-js-test', '1.0.0');

  logger.emit({ severityNumber: api.SeverityNumber.INFO, severityText: 'INFO', body: 'application started' });
  for (const evaluation of evaluations) {
    const record = { timestamp: evaluation.timeUnixMs, severityNumber: api.SeverityNumber.INFO, attributes: { ...evaluation.attributes } };
    if (evaluation.legacyEventName) {
      record.attributes['event.name'] = 'feature_flag.evaluation';
    } else {
      record.eventName = 'feature_flag.evaluation';
    }
    logger.emit(record);
  }
  logger.emit({ eventName: 'session.start', attributes: { 'session.id': 's-1' } });
  logger.emit({ body: 'not an event', attributes: { 'feature_flag.key': 'not-an-evaluation', 'feature_flag.result.variant': 'x' } });

  await flushAndShutDown(provider);
}

async function emitTraces() {
  const { TracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
  const { OTLPTraceExporter } = require(exporterPackage());
  const exporter = recording(new OTLPTraceExporter(exporterConfig('v1/traces')));
  const provider = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter, ...processorOptions })] });
  const tracer = provider.getTracer('flagexport-otel-js-test', '1.0.0');

  tracer.startSpan('startup').end();
  for (const evaluation of evaluations) {
    const span = tracer.startSpan('evaluate', { startTime: evaluation.timeUnixMs });
    span.addEvent(evaluation.legacyEventName ? 'feature_flag' : 'feature_flag.evaluation', evaluation.attributes, evaluation.timeUnixMs);
    span.end(evaluation.timeUnixMs);
  }
  const other = tracer.startSpan('checkout');
  other.addEvent('cache.miss', { 'feature_flag.key': 'not-an-evaluation' });
  other.end();

  await flushAndShutDown(provider);
}

(signal === 'traces' ? emitTraces() : emitLogs()).then(() => {
  process.stdout.write(JSON.stringify({ exports: results, diag: diagnostics }) + '\n');
}, (error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});

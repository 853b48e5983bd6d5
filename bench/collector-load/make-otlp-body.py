#!/usr/bin/env python3
"""Writes an OTLP ExportLogsServiceRequest in protobuf with the evaluations of make-body.sh as feature_flag.evaluation
log records, as an OpenTelemetry SDK's log exporter sends them to /v1/logs: one resource (service.name, host.name), one
scope, per evaluation a record with its time, observed time, severity, event name and the attributes key, provider,
variant, value, reason and context id (none for the anonymous tenth, which make-body.sh marks anonymousUser).

Encoded by hand from the field numbers of the OTLP specification (opentelemetry-proto: common/v1, resource/v1, logs/v1,
collector/logs/v1); no generated code. Usage: make-otlp-body.py [N] > body.pb
"""
import struct
import sys
import time


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(field, wire_type):
    return varint(field << 3 | wire_type)


def length_delimited(field, data):
    if isinstance(data, str):
        data = data.encode()
    return tag(field, 2) + varint(len(data)) + data


def fixed64(field, value):
    return tag(field, 1) + struct.pack("<Q", value)


def any_value(value):
    # AnyValue: string_value = 1, bool_value = 2, int_value = 3, double_value = 4 (fixed64), kvlist_value = 6.
    if isinstance(value, bool):
        return tag(2, 0) + varint(int(value))
    if isinstance(value, int):
        return tag(3, 0) + varint(value)
    if isinstance(value, float):
        return tag(4, 1) + struct.pack("<d", value)
    if isinstance(value, dict):
        return length_delimited(6, b"".join(length_delimited(1, key_value(k, v)) for k, v in value.items()))
    return length_delimited(1, value)


def key_value(key, value):
    # KeyValue: key = 1, value = 2.
    return length_delimited(1, key) + length_delimited(2, any_value(value))


def log_record(nanos, attributes):
    # LogRecord: time_unix_nano = 1, severity_number = 2 (9: INFO), attributes = 6, observed_time_unix_nano = 11,
    # event_name = 12.
    return (fixed64(1, nanos) + tag(2, 0) + varint(9)
            + b"".join(length_delimited(6, key_value(k, v)) for k, v in attributes)
            + fixed64(11, nanos + 1_000_000) + length_delimited(12, "feature_flag.evaluation"))


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    now = int(time.time())
    values = [True, False, "variant-b", 42, 3.5, {"color": "blue", "size": 3}]
    variations = ["on", "off", "variant-b", "limit-42", "ratio", "theme-blue"]
    records = []
    for i in range(count):
        k = i % len(values)
        attributes = [
            ("feature_flag.key", "flag-%02d" % (i % 12)),
            ("feature_flag.provider.name", "go-feature-flag"),
            ("feature_flag.result.variant", variations[k]),
            ("feature_flag.result.value", values[k]),
            ("feature_flag.result.reason", "static" if i % 3 == 0 else "targeting_match"),
        ]
        if i % 10 != 0:
            attributes.append(("feature_flag.context.id", "%08x-20d8-40cc-8500-fee99b569345" % (0x94a25909 + i * 7919)))
        records.append(log_record((now - count + i) * 1_000_000_000, attributes))
    # Resource: attributes = 1. InstrumentationScope: name = 1, version = 2. ScopeLogs: scope = 1, log_records = 2.
    # ResourceLogs: resource = 1, scope_logs = 2. ExportLogsServiceRequest: resource_logs = 1.
    resource = length_delimited(1, key_value("service.name", "checkout")) + length_delimited(1, key_value("host.name", "checkout-7d9f"))
    scope = length_delimited(1, "OpenFeature") + length_delimited(2, "1.0.0")
    scope_logs = length_delimited(1, scope) + b"".join(length_delimited(2, r) for r in records)
    resource_logs = length_delimited(1, resource) + length_delimited(2, scope_logs)
    sys.stdout.buffer.write(length_delimited(1, resource_logs))


main()

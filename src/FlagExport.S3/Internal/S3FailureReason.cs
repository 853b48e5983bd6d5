using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace FlagExport.S3;

/// <summary>Why an S3 request failed, in words a user can act on; never includes credentials.</summary>
internal readonly record struct S3FailureReason(string Text, string? ErrorCode, HttpStatusCode? StatusCode)
{
    /// <summary>Describes <paramref name="exception"/> from an upload (<paramref name="isBucketCheck"/> false) or a HeadBucket.</summary>
    /// <param name="exception">The failure.</param>
    /// <param name="isBucketCheck">The request was a HeadBucket, whose answers have no body.</param>
    /// <param name="storageClass">The storage class the upload asked for, if any: radosgw refuses an unknown one without a message.</param>
    public static S3FailureReason Describe(Exception exception, bool isBucketCheck = false, string? storageClass = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (Find<AmazonServiceException>(exception) is { } service && service.StatusCode != 0)
        {
            // HeadBucket answers have no body: only the status tells what went wrong.
            string? code = string.IsNullOrEmpty(service.ErrorCode) ? null : service.ErrorCode;
            HttpStatusCode status = service.StatusCode;
            string what;
            if (code == "NoSuchBucket" || (isBucketCheck && status == HttpStatusCode.NotFound))
            {
                what = "the bucket does not exist";
            }
            else if (code == "InvalidAccessKeyId" && service.Message?.Contains("kms", StringComparison.OrdinalIgnoreCase) == true)
            {
                // radosgw answers a KMS key it cannot fetch with InvalidAccessKeyId too; its message names the KMS key.
                what = $"the KMS key could not be used: {Trim(service.Message)}";
            }
            else if (code == "InvalidAccessKeyId")
            {
                what = "wrong credentials: the access key id is not known to the server";
            }
            else if (code == "SignatureDoesNotMatch")
            {
                what = "wrong credentials: the secret access key does not match the access key id";
            }
            else if (isBucketCheck && status == HttpStatusCode.Forbidden)
            {
                what = "access denied: the access key id or secret access key is wrong, or the credentials lack s3:ListBucket on the bucket";
            }
            else if (code == "AccessDenied" || status == HttpStatusCode.Forbidden)
            {
                what = "access denied: the credentials lack permission for this request";
            }
            else if (code == "XAmzContentSHA256Mismatch")
            {
                what = "the server does not understand the SDK's streaming checksum: set RequestChecksumCalculation to WHEN_REQUIRED";
            }
            else if (code is "PermanentRedirect" or "AuthorizationHeaderMalformed" || status == HttpStatusCode.MovedPermanently)
            {
                what = "the bucket is in another region than the one configured: set Region";
            }
            else if (string.IsNullOrWhiteSpace(service.Message))
            {
                // radosgw 16 answers a storage class its zone does not define with an InvalidArgument without a message.
                what = code == "InvalidArgument" && storageClass is not null
                    ? $"the server refused an argument without saying which; radosgw does so when the bucket's placement has no storage class '{storageClass}'"
                    : "the server gave no reason";
            }
            else
            {
                what = Trim(service.Message);
            }

            string text = $"{what} ({code ?? status.ToString()}, HTTP {(int)status})";
            return new S3FailureReason(text, code, service.StatusCode);
        }

        if (Find<SocketException>(exception) is { } socket)
        {
            return new S3FailureReason($"network error: {socket.SocketErrorCode} ({Trim(Find<HttpRequestException>(exception)?.Message ?? socket.Message)})", null, null);
        }

        if (Find<HttpRequestException>(exception) is { } http2)
        {
            return new S3FailureReason($"network error: {Trim(http2.Message)}", null, null);
        }

        if (Find<OperationCanceledException>(exception) is not null || Find<TimeoutException>(exception) is not null)
        {
            return new S3FailureReason("timed out or cancelled", null, null);
        }

        if (exception is AmazonClientException client && client.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
        {
            return new S3FailureReason(
                "no AWS credentials found (environment, profile, container and instance role were tried): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", null, null);
        }

        return new S3FailureReason($"{exception.GetType().Name}: {Trim(exception.Message)}", null, null);
    }

    /// <summary><see langword="true"/> when S3 refused the write because the key exists (If-None-Match) or a concurrent conditional write won.</summary>
    public static bool IsKeyTaken(Exception exception) =>
        exception is AmazonS3Exception { StatusCode: HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict } s3
        && (s3.StatusCode == HttpStatusCode.PreconditionFailed || s3.ErrorCode == "ConditionalRequestConflict");

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static string Trim(string? message) => (message ?? "").Trim().TrimEnd('.');
}

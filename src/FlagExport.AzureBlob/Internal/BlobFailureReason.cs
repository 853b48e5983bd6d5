using System.Net.Sockets;
using Azure;
using Azure.Identity;

namespace FlagExport.AzureBlob;

/// <summary>Why a Blob Storage request failed, in words a user can act on; never includes credentials.</summary>
internal readonly record struct BlobFailureReason(string Text, string? ErrorCode, int Status, bool IsPermanent)
{
    /// <summary>A failure the exporter names itself, that no retry heals.</summary>
    public static BlobFailureReason Permanent(string text) => new(text, null, 0, true);

    /// <summary>Describes <paramref name="exception"/>, thrown by an upload or by the container check.</summary>
    public static BlobFailureReason Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (Find<RequestFailedException>(exception) is { } failed && failed.Status != 0)
        {
            string? code = string.IsNullOrEmpty(failed.ErrorCode) ? null : failed.ErrorCode;
            (string what, bool permanent) = (code, failed.Status) switch
            {
                ("ContainerNotFound", _) or (null, 404) => ("the container does not exist", true),
                ("AuthenticationFailed", _) => ("wrong credentials: the account key or token is not accepted", true),
                ("AuthorizationPermissionMismatch" or "AuthorizationFailure" or "InsufficientAccountPermissions", _) or (_, 403) =>
                    ("access denied: the credentials lack permission for this request", true),
                ("AccountIsDisabled", _) => ("the storage account is disabled", true),
                _ => ($"the service answered {failed.Status} {code}: {FirstLine(failed.Message)}", false),
            };
            return new(what, code, failed.Status, permanent);
        }

        if (Find<AuthenticationFailedException>(exception) is { } authentication)
        {
            return new($"no credentials: {FirstLine(authentication.Message)}", null, 0, true);
        }

        if (Find<CredentialUnavailableException>(exception) is { } unavailable)
        {
            return new($"no credentials: {FirstLine(unavailable.Message)}", null, 0, true);
        }

        if (Find<SocketException>(exception) is { } socket)
        {
            return new($"the service cannot be reached: {socket.Message}", null, 0, false);
        }

        if (exception is OperationCanceledException or TimeoutException)
        {
            return new("the request timed out", null, 0, false);
        }

        return new(FirstLine(exception.Message), null, 0, false);
    }

    private static string FirstLine(string message)
    {
        int newline = message.AsSpan().IndexOfAny('\r', '\n');
        return (newline < 0 ? message : message[..newline]).Trim();
    }

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T found)
            {
                return found;
            }
        }

        return null;
    }
}

using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;

namespace RecurrentCore.Samples.Serving;

/// <summary>
/// One WebSocket bound to one session: each binary frame of I float32 values (little-endian) is one step, answered
/// by a binary frame of H float32 values; a bad frame is answered by a text frame <c>error: …</c> and the session
/// stays as it was. The buffers are allocated once per connection.
/// </summary>
internal static class SocketLoop
{
    public static async Task Run(WebSocket ws, SessionEntry entry, int input, int hidden, CancellationToken aborted)
    {
        var inBytes = new byte[input * sizeof(float)];
        var discard = new byte[4096];
        var x = new float[input];
        var y = new float[hidden];
        var outBytes = new byte[hidden * sizeof(float)];
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(entry.Lifetime, aborted);
        var ct = linked.Token;
        try
        {
            while (true)
            {
                long total = 0;
                ValueWebSocketReceiveResult r;
                do
                {
                    var into = total < inBytes.Length ? inBytes.AsMemory((int)total) : discard.AsMemory();
                    r = await ws.ReceiveAsync(into, ct);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                        return;
                    }

                    total += r.Count;
                }
                while (!r.EndOfMessage);

                entry.Touch();
                string? error = null;
                if (r.MessageType != WebSocketMessageType.Binary)
                {
                    error = $"send binary frames of I = {input} float32 values (little-endian)";
                }
                else if (total != inBytes.Length)
                {
                    error = $"frame has {total} bytes, expected {inBytes.Length} (I = {input} float32 values, little-endian)";
                }
                else
                {
                    MemoryMarshal.Cast<byte, float>(inBytes).CopyTo(x);
                    try
                    {
                        await entry.Session.StepAsync(x, y, ct);
                    }
                    catch (ArgumentException e)
                    {
                        error = Errors.OneLine(e);
                    }
                    catch (InvalidOperationException e) when (e is not ObjectDisposedException)
                    {
                        error = e.Message;
                    }
                }

                if (error is null)
                {
                    MemoryMarshal.AsBytes(y.AsSpan()).CopyTo(outBytes);
                    await ws.SendAsync(outBytes.AsMemory(), WebSocketMessageType.Binary, true, ct);
                }
                else
                {
                    await ws.SendAsync(Encoding.UTF8.GetBytes("error: " + error).AsMemory(), WebSocketMessageType.Text, true, ct);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && entry.Session.IsClosed)
        {
            await CloseQuietly(ws, $"session {entry.Id} was closed or evicted");
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // The client went away.
        }
    }

    private static async Task CloseQuietly(WebSocket ws, string reason)
    {
        try
        {
            if (ws.State == WebSocketState.Open)
            {
                await ws.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, reason, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
        }
    }
}

internal static class Errors
{
    /// <summary>An argument error's message without the " (Parameter 'x')" suffix the runtime appends.</summary>
    public static string OneLine(ArgumentException e)
    {
        var m = e.Message;
        int i = e.ParamName is null ? -1 : m.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return i > 0 ? m[..i] : m;
    }
}

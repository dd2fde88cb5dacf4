using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecurrentCore.Layers;

namespace RecurrentCore.Samples.LoadTest;

/// <summary>Clients of samples/Serving on loopback: load (latency, throughput, the service's GC counts), the CI answer check, and startup time.</summary>
internal static class Service
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>N WebSocket clients, each its own session, stepping back to back for a bounded time and count.</summary>
    public static async Task<int> Load(Args a)
    {
        var url = Loopback(a.Text("url", "http://127.0.0.1:5080"));
        int clients = a.Int("clients", 64), seconds = a.Int("seconds", 10), maxSteps = a.Int("max-steps", 1_000_000);
        var info = await Get(url, "/");
        int input = (int)info["input"]!, hidden = (int)info["hidden"]!;
        var inputs = InProc.Inputs(clients, input);
        var h = new Histogram();
        var sockets = new ClientWebSocket[clients];
        for (int c = 0; c < clients; c++)
        {
            sockets[c] = new ClientWebSocket();
            await sockets[c].ConnectAsync(new Uri(WsUrl(url, "/ws")), CancellationToken.None);
        }

        var before = await Get(url, "/stats");
        long done = 0;
        var deadline = Stopwatch.GetTimestamp() + (seconds * Stopwatch.Frequency);
        var sw = Stopwatch.StartNew();
        var tasks = new Task[clients];
        for (int c = 0; c < clients; c++)
        {
            var ws = sockets[c];
            var x = inputs[c];
            tasks[c] = Task.Run(async () =>
            {
                var outBytes = new byte[hidden * sizeof(float)];
                for (int t = 0; Stopwatch.GetTimestamp() < deadline && Interlocked.Increment(ref done) <= maxSteps; t++)
                {
                    var frame = MemoryMarshal.AsBytes(x.AsSpan((t % 16) * input, input)).ToArray();
                    long t0 = Stopwatch.GetTimestamp();
                    await ws.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None);
                    await ReceiveExactly(ws, outBytes);
                    h.Record(Stopwatch.GetTimestamp() - t0);
                }
            });
        }

        await Task.WhenAll(tasks);
        double elapsed = sw.Elapsed.TotalSeconds;
        var after = await Get(url, "/stats");
        foreach (var ws in sockets)
        {
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            ws.Dispose();
        }

        long steps = (long)after["steps"]! - (long)before["steps"]!;
        long batches = (long)after["batches"]! - (long)before["batches"]!;
        long bytes = (long)after["allocatedBytes"]! - (long)before["allocatedBytes"]!;
        Console.WriteLine($"# service: {url}, {clients} WebSocket clients, ≤ {seconds} s, ≤ {maxSteps} steps; {info.ToJsonString()}");
        Console.WriteLine("| clients | steps | steps/s | p50 µs | p99 µs | p99.9 µs | mean batch | service gen0 | gen1 | gen2 | service B/step |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {clients} | {h.Count} | {h.Count / elapsed:0} | {h.Quantile(0.5):0} | {h.Quantile(0.99):0} | {h.Quantile(0.999):0} | {(double)steps / Math.Max(1, batches):0.0} | {Delta(before, after, "gen0")} | {Delta(before, after, "gen1")} | {Delta(before, after, "gen2")} | {(double)bytes / Math.Max(1, steps):0} |"));
        return 0;
    }

    /// <summary>
    /// CI's answer check: sessions over both WebSocket routes and the JSON route, stepped concurrently, each checked
    /// bitwise against the library stepping it alone; bad input, unknown sessions and idle eviction refused as documented.
    /// </summary>
    public static async Task<int> Check(Args a)
    {
        var url = Loopback(a.Text("url", "http://127.0.0.1:5080"));
        int sessions = a.Int("sessions", 4), steps = a.Int("steps", 20), seed = a.Int("seed", 1, int.MinValue);
        var info = await WaitForService(url, TimeSpan.FromSeconds(a.Int("wait-seconds", 0, 0)));
        int input = (int)info["input"]!, hidden = (int)info["hidden"]!;
        var layer = DemoModel.Seeded(seed, input, hidden, DemoModel.ParseCell((string)info["cell"]!));
        var failures = new List<string>();
        void Expect(bool ok, string what)
        {
            if (!ok)
            {
                lock (failures)
                {
                    failures.Add(what);
                }
            }
        }

        Expect((string)info["kernel"]! == Kernels.KernelCatalog.Name(layer.Variant), $"kernel: service {info["kernel"]}, here {Kernels.KernelCatalog.Name(layer.Variant)}");
        var inputs = InProc.Inputs(sessions, input);
        var tasks = new Task<float[]>[sessions];
        for (int s = 0; s < sessions; s++)
        {
            int session = s;
            tasks[s] = (s % 3) switch
            {
                0 => Task.Run(() => ViaSocket(url, null, inputs[session], input, hidden, steps, badFrames: session == 0, Expect)),
                1 => Task.Run(async () => ViaSocket(url, await Create(url), inputs[session], input, hidden, steps, badFrames: true, Expect)),
                _ => Task.Run(() => ViaJson(url, inputs[session], input, hidden, steps, Expect)),
            };
        }

        var outputs = await Task.WhenAll(tasks);
        int exact = 0;
        double worstOneRow = 0;
        for (int s = 0; s < sessions; s++)
        {
            var (batched, oneRow) = Alone(layer, inputs[s], steps);
            if (batched.AsSpan().SequenceEqual(outputs[s]))
            {
                exact++;
            }
            else
            {
                Expect(false, $"session {s}: outputs differ from the library's batched product stepped alone");
            }

            for (int i = 0; i < oneRow.Length; i++)
            {
                worstOneRow = Math.Max(worstOneRow, Math.Abs(oneRow[i] - outputs[s][i]));
            }
        }

        // Unknown sessions and wrong routes answer with one-line errors.
        var unknown = await Http.PostAsync(url + "/sessions/0000/step", Json("{\"x\":[1]}"));
        Expect((int)unknown.StatusCode == 404 && (await unknown.Content.ReadAsStringAsync()).Contains("unknown session '0000'", StringComparison.Ordinal), "unknown session → 404");
        var del = await Http.DeleteAsync(url + "/sessions/0000");
        Expect((int)del.StatusCode == 404, "delete unknown → 404");

        // Idle eviction (when the service runs with a short --idle-seconds).
        double idle = (double)info["idleSeconds"]!;
        if (idle <= 2)
        {
            var id = await Create(url);
            await Task.Delay(TimeSpan.FromSeconds((idle * 1.5) + 0.6));
            var r = await Http.PostAsync($"{url}/sessions/{id}/step", Json(JsonX(new float[input])));
            Expect((int)r.StatusCode == 404, $"a session idle for {idle * 1.5 + 0.6:0.0} s is evicted (got {(int)r.StatusCode})");
        }

        foreach (var f in failures)
        {
            Console.WriteLine($"check: FAILED {f}");
        }

        Console.WriteLine($"check: {exact}/{sessions} sessions × {steps} steps bitwise equal to the library stepping alone (batched product); " +
            $"max |Δ| vs a one-row stream {worstOneRow:0.0e+0}; {failures.Count} failures");
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>Starts the command after <c>--</c> and times process start → first answered step.</summary>
    public static async Task<int> Startup(Args a)
    {
        var url = Loopback(a.Text("url", "http://127.0.0.1:5080"));
        if (a.Rest.Length == 0)
        {
            throw new ArgumentException("startup: give the service's command line after --");
        }

        int input = a.Int("input", DemoModel.DefaultInput);
        // Warm this client first, so its own start-up is not charged to the service.
        try
        {
            await Http.GetAsync(url + "/");
        }
        catch (HttpRequestException)
        {
        }

        var body = JsonX(new float[input]);
        var psi = new ProcessStartInfo(a.Rest[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in a.Rest[1..])
        {
            psi.ArgumentList.Add(arg);
        }

        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        try
        {
            while (sw.Elapsed < TimeSpan.FromSeconds(30))
            {
                try
                {
                    var created = await Http.PostAsync(url + "/sessions", null);
                    if ((int)created.StatusCode == 201)
                    {
                        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
                        var step = await Http.PostAsync($"{url}/sessions/{id}/step", Json(body));
                        if (step.IsSuccessStatusCode)
                        {
                            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"startup: first answered step {sw.Elapsed.TotalMilliseconds:0} ms after process start ({string.Join(' ', a.Rest)})"));
                            return 0;
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(1);
                }
            }

            Console.WriteLine("startup: no answer within 30 s");
            return 1;
        }
        finally
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
    }

    private static float[] ViaSocket(string url, string? id, float[] x, int input, int hidden, int steps, bool badFrames, Action<bool, string> expect)
    {
        using var ws = new ClientWebSocket();
        ws.ConnectAsync(new Uri(WsUrl(url, id is null ? "/ws" : $"/sessions/{id}/ws")), CancellationToken.None).GetAwaiter().GetResult();
        var outputs = new float[steps * hidden];
        var buffer = new byte[hidden * sizeof(float)];
        for (int t = 0; t < steps; t++)
        {
            if (badFrames && t == steps / 2)
            {
                expect(Refused(ws, new byte[(input - 1) * sizeof(float)], WebSocketMessageType.Binary, "frame has"), "short frame refused");
                var nan = x.AsSpan((t % 16) * input, input).ToArray();
                nan[3] = float.NaN;
                expect(Refused(ws, MemoryMarshal.AsBytes(nan.AsSpan()).ToArray(), WebSocketMessageType.Binary, "x[3] is NaN"), "NaN refused");
                expect(Refused(ws, "hello"u8.ToArray(), WebSocketMessageType.Text, "send binary frames"), "text frame refused");
            }

            var frame = MemoryMarshal.AsBytes(x.AsSpan((t % 16) * input, input)).ToArray();
            ws.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None).GetAwaiter().GetResult();
            ReceiveExactly(ws, buffer).GetAwaiter().GetResult();
            MemoryMarshal.Cast<byte, float>(buffer).CopyTo(outputs.AsSpan(t * hidden, hidden));
        }

        ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).GetAwaiter().GetResult();
        return outputs;
    }

    private static bool Refused(ClientWebSocket ws, byte[] frame, WebSocketMessageType type, string expected)
    {
        ws.SendAsync(frame, type, true, CancellationToken.None).GetAwaiter().GetResult();
        var buffer = new byte[4096];
        var r = ws.ReceiveAsync(buffer, CancellationToken.None).GetAwaiter().GetResult();
        var text = Encoding.UTF8.GetString(buffer, 0, r.Count);
        return r.MessageType == WebSocketMessageType.Text && text.StartsWith("error: ", StringComparison.Ordinal) && text.Contains(expected, StringComparison.Ordinal);
    }

    private static async Task<float[]> ViaJson(string url, float[] x, int input, int hidden, int steps, Action<bool, string> expect)
    {
        var id = await Create(url);
        var outputs = new float[steps * hidden];
        for (int t = 0; t < steps; t++)
        {
            if (t == steps / 2)
            {
                var bad = await Http.PostAsync($"{url}/sessions/{id}/step", Json("{\"x\":[1,2,3]}"));
                expect((int)bad.StatusCode == 400 && (await bad.Content.ReadAsStringAsync()).Contains($"x has 3 values, expected I = {input}", StringComparison.Ordinal), "JSON wrong length → 400");
                var junk = await Http.PostAsync($"{url}/sessions/{id}/step", Json("{\"x\":[NaN]}"));
                expect((int)junk.StatusCode == 400, "JSON NaN → 400");
            }

            var r = await Http.PostAsync($"{url}/sessions/{id}/step", Json(JsonX(x.AsSpan((t % 16) * input, input).ToArray())));
            var y = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["y"]!.AsArray();
            expect(y.Count == hidden, "JSON y length");
            for (int i = 0; i < hidden; i++)
            {
                outputs[(t * hidden) + i] = (float)y[i]!;
            }
        }

        var del = await Http.DeleteAsync($"{url}/sessions/{id}");
        expect((int)del.StatusCode == 204, "DELETE session → 204");
        return outputs;
    }

    /// <summary>The session stepped alone: row 0 of a two-row stream (the pool's batched product) and a one-row stream (GEMV).</summary>
    private static (float[] Batched, float[] OneRow) Alone(RecurrentLayer layer, float[] x, int steps)
    {
        int input = layer.Config.InputSize, hidden = layer.Config.HiddenSize;
        var two = layer.CreateStream(2);
        var one = layer.CreateStream(1);
        var x2 = new float[2 * input];
        var y2 = new float[2 * hidden];
        var batched = new float[steps * hidden];
        var oneRow = new float[steps * hidden];
        for (int t = 0; t < steps; t++)
        {
            var xt = x.AsSpan((t % 16) * input, input);
            xt.CopyTo(x2);
            two.Step(x2, y2);
            y2.AsSpan(0, hidden).CopyTo(batched.AsSpan(t * hidden));
            one.Step(xt, oneRow.AsSpan(t * hidden, hidden));
        }

        return (batched, oneRow);
    }

    private static async Task ReceiveExactly(ClientWebSocket ws, byte[] buffer)
    {
        int n = 0;
        ValueWebSocketReceiveResult r;
        do
        {
            r = await ws.ReceiveAsync(buffer.AsMemory(n), CancellationToken.None);
            n += r.Count;
        }
        while (!r.EndOfMessage);
        if (r.MessageType != WebSocketMessageType.Binary || n != buffer.Length)
        {
            throw new InvalidOperationException($"service answered {r.MessageType} of {n} bytes: {Encoding.UTF8.GetString(buffer, 0, n)}");
        }
    }

    private static async Task<string> Create(string url)
    {
        var r = await Http.PostAsync(url + "/sessions", null);
        r.EnsureSuccessStatusCode();
        return (string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["id"]!;
    }

    private static async Task<JsonNode> WaitForService(string url, TimeSpan patience)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await Get(url, "/");
            }
            catch (HttpRequestException) when (sw.Elapsed < patience)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<JsonNode> Get(string url, string path) => JsonNode.Parse(await Http.GetStringAsync(url + path))!;

    private static long Delta(JsonNode before, JsonNode after, string key) => (long)after[key]! - (long)before[key]!;

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string JsonX(float[] x) => "{\"x\":" + JsonSerializer.Serialize(x, LoadTestJson.Default.SingleArray) + "}";

    private static string WsUrl(string url, string path) => "ws" + url["http".Length..] + path;

    /// <summary>Loopback only: this driver never loads another machine.</summary>
    private static string Loopback(string url)
    {
        var u = new Uri(url);
        if (u.Scheme != "http" || !(u.IsLoopback))
        {
            throw new ArgumentException($"--url: '{url}' is not an http:// loopback address (127.0.0.1, [::1] or localhost)");
        }

        return url.TrimEnd('/');
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(float[]))]
internal sealed partial class LoadTestJson : System.Text.Json.Serialization.JsonSerializerContext;

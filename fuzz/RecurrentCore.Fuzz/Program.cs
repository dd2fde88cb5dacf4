using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using SharpFuzz;

namespace RecurrentCore.Fuzz;

/// <summary>
/// afl++ target: <c>RecurrentCore.Fuzz (safetensors | npy | onnx)</c>, or with a second argument a file to run once
/// (to replay a finding or a corpus entry). An input must either be read or be refused with a
/// <see cref="RecurrentCoreException"/> whose one-line message starts with the source name; anything else (another
/// exception, a multi-line message, the byte and stream readers disagreeing) escapes and afl++ records a crash.
/// </summary>
internal static class Program
{
    private const string Source = "fuzz-input";

    private static int Main(string[] args)
    {
        if (args.Length is < 1 or > 2 || args[0] is not ("safetensors" or "npy" or "onnx"))
        {
            Console.Error.WriteLine("usage: RecurrentCore.Fuzz (safetensors | npy | onnx) [input-file]");
            return 2;
        }

        Action<byte[]> target = args[0] switch
        {
            "safetensors" => SafeTensorsTarget,
            "npy" => NpyTarget,
            _ => OnnxTarget,
        };

        if (args.Length == 2)
        {
            target(File.ReadAllBytes(args[1]));
            return 0;
        }

        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            target(copy.ToArray());
        });
        return 0;
    }

    private static void SafeTensorsTarget(byte[] bytes)
    {
        string fromBytes = Outcome(() => Describe(SafeTensors.Read(bytes, Source)));
        string fromStream = Outcome(() => Describe(SafeTensors.Read(new PipeStream(bytes), Source)));
        Agree(fromBytes, fromStream, bytes.Length);
    }

    private static void NpyTarget(byte[] bytes)
    {
        string fromBytes = Outcome(() => Describe(Npy.Read(bytes, Source)));
        string fromStream = Outcome(() => Describe(Npy.Read(new PipeStream(bytes), Source)));
        Agree(fromBytes, fromStream, bytes.Length);
    }

    private static void OnnxTarget(byte[] bytes) => Outcome(() =>
    {
        var result = OnnxModel.Import(bytes, Source);
        return result.ToString() ?? string.Empty;
    });

    /// <summary>The tensors' names, dtypes, shapes and a checksum of their bytes, so both read paths can be compared.</summary>
    private static string Describe(SafeTensorsFile file) =>
        string.Join(";", file.Tensors.Select(t => t.Key + "=" + Describe(t.Value))) + "|" + string.Join(";", file.Metadata.Select(m => m.Key + "=" + m.Value))
        + "|" + Outcome(() => RecurrentCore.Layers.QuantizedLayer.FromSafeTensors(file, Source).WeightBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static string Describe(HostTensor t)
    {
        ulong hash = 14695981039346656037;
        foreach (byte b in t.Bytes.Span)
        {
            hash = (hash ^ b) * 1099511628211;
        }

        // Exercise the conversions too: they must refuse (not crash) on hostile values.
        Outcome(() => t.ToSingle(Source).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Outcome(() => t.ToDouble().Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return $"{t.DType}({string.Join(",", t.Shape)}):{hash:x16}";
    }

    /// <summary>"ok:..." or "refused:message"; any exception that is not ours, or a message that breaks the contract, escapes.</summary>
    private static string Outcome(Func<string> read)
    {
        try
        {
            return "ok:" + read();
        }
        catch (RecurrentCoreException e)
        {
            if (!e.Message.StartsWith(Source, StringComparison.Ordinal) && !e.Message.StartsWith("<tensor>", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"refusal does not name the source: {e.Message}", e);
            }

            if (e.Message.Contains('\n', StringComparison.Ordinal) || e.Message.Contains('\r', StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"refusal is not one line: {e.Message}", e);
            }

            return "refused:" + e.Message;
        }
    }

    /// <summary>
    /// A pipe reads one byte past what the header declares, so its trailing-data count can differ; otherwise the two
    /// paths must give the same tensors or the same message.
    /// </summary>
    private static void Agree(string fromBytes, string fromStream, int length)
    {
        if (fromBytes == fromStream)
        {
            return;
        }

        bool bothTrailing = fromBytes.Contains("trailing", StringComparison.Ordinal) && fromStream.Contains("trailing", StringComparison.Ordinal);
        if (!bothTrailing)
        {
            throw new InvalidOperationException($"byte and stream readers disagree on {length} bytes: '{fromBytes}' vs '{fromStream}'");
        }
    }

    /// <summary>A stream that cannot seek or report its length, returning at most 61 bytes a read, like a pipe.</summary>
    private sealed class PipeStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 61), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

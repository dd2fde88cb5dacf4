using RecurrentCore.Interop;
using RecurrentCore.Layers;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Interop.InteropAssert;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Quantized;

/// <summary>
/// A quantized layer saved as safetensors and loaded again computes the same bits; the stored values are those of an
/// independent quantization of the float weights; every malformed file is refused with one line naming the tensor or key.
/// </summary>
public class QuantizedFileTests
{
    public static TheoryData<CellKind, WeightFormat, bool, bool> RoundTripCases()
    {
        var data = new TheoryData<CellKind, WeightFormat, bool, bool>();
        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh, CellKind.RnnRelu })
        {
            foreach (var f in Enum.GetValues<WeightFormat>())
            {
                data.Add(cell, f, true, false);
            }

            data.Add(cell, WeightFormat.Int8, false, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void Saved_and_loaded_layer_gives_the_same_bits(CellKind cell, WeightFormat format, bool bias, bool batchFirst)
    {
        var rng = new Random(5);
        var cfg = new RecurrentConfig(cell, 19, 23, numLayers: 2, bias: bias, batchFirst: batchFirst);
        var q = QuantizedLayer.FromParameters(Parameters(cfg, rng, 0.4), format);
        byte[] bytes = q.ToSafeTensors();
        var loaded = QuantizedLayer.FromSafeTensors(SafeTensors.Read(bytes, "q.safetensors"), "q.safetensors");

        Assert.Equal(cfg, loaded.Config);
        Assert.Equal(format, loaded.Format);
        Assert.Equal(q.WeightBytes, loaded.WeightBytes);
        Assert.Equal(bytes, loaded.ToSafeTensors());

        const int T = 6, B = 3;
        var x = ToSingle(RandomData.Normal(rng, T * B * cfg.InputSize));
        var h0 = ToSingle(RandomData.Normal(rng, cfg.NumLayers * B * cfg.HiddenSize, 0.5));
        var c0 = cell == CellKind.Lstm ? ToSingle(RandomData.Normal(rng, h0.Length, 0.5)) : [];
        var (y1, h1, c1) = Run(q, x, T, B, h0, c0);
        var (y2, h2, c2) = Run(loaded, x, T, B, h0, c0);
        Assert.Equal(y1, y2);
        Assert.Equal(h1, h2);
        Assert.Equal(c1, c2);
    }

    [Fact]
    public void Int8_file_holds_an_independent_per_row_quantization_of_the_float_weights()
    {
        var rng = new Random(8);
        var cfg = new RecurrentConfig(CellKind.Lstm, 7, 5);
        var p = Parameters(cfg, rng, 0.5);
        var file = SafeTensors.Read(QuantizedLayer.FromParameters(p, WeightFormat.Int8).ToSafeTensors(), "q");
        Assert.Equal("int8", file.Metadata[QuantizedStateDict.FormatKey]);
        Assert.Equal("lstm", file.Metadata[PyTorchStateDict.MetadataKeys.Cell]);
        foreach (var kind in new[] { ParameterKind.WeightIh, ParameterKind.WeightHh })
        {
            string name = kind == ParameterKind.WeightIh ? "weight_ih_l0" : "weight_hh_l0";
            double[] w = p[0, 0, kind];
            int rows = 4 * cfg.HiddenSize, cols = w.Length / rows;
            var q = file[name];
            var s = file[name + "_scale"].ToSingle();
            Assert.Equal(TensorDType.I8, q.DType);
            var qv = q.ToInt64();
            for (int r = 0; r < rows; r++)
            {
                double amax = Enumerable.Range(0, cols).Max(c => Math.Abs(w[(r * cols) + c]));
                Assert.Equal((float)amax / 127f, s[r]);
                for (int c = 0; c < cols; c++)
                {
                    // q·s is the weight to within half a level.
                    Assert.True(Math.Abs((qv[(r * cols) + c] * (double)s[r]) - w[(r * cols) + c]) <= (0.5 * s[r]) + 1e-12, $"{name}[{r},{c}]");
                }
            }
        }

        Assert.Equal(ToSingle(p[0, 0, ParameterKind.BiasIh]), file["bias_ih_l0"].ToSingle());
    }

    [Fact]
    public void Bf16_file_holds_the_rounded_bits()
    {
        var cfg = new RecurrentConfig(CellKind.Gru, 3, 2);
        var p = Parameters(cfg, new Random(2), 0.5);
        var file = SafeTensors.Read(QuantizedLayer.FromParameters(p, WeightFormat.BFloat16).ToSafeTensors(), "q");
        var t = file["weight_hh_l0"];
        Assert.Equal(TensorDType.BF16, t.DType);
        var widened = t.ToDouble();
        double[] w = p[0, 0, ParameterKind.WeightHh];
        for (int i = 0; i < w.Length; i++)
        {
            // Nearest bf16: within half a unit of its 8-bit significand.
            Assert.True(Math.Abs(widened[i] - w[i]) <= Math.Abs(w[i]) * Math.Pow(2, -8), $"weight_hh_l0[{i}]");
        }

        Assert.False(file.TryGet("weight_hh_l0_scale", out _));
    }

    public static TheoryData<string, string[]> Refusals() => new()
    {
        { "wrong-dtype", ["'weight_ih_l0'", "F32", "int8", "I8"] },
        { "missing-scale", ["'weight_hh_l0_scale'", "missing"] },
        { "scale-count", ["'weight_ih_l0_scale'", "(16,)"] },
        { "scale-dtype", ["'weight_ih_l0_scale'", "F64", "expected F32"] },
        { "negative-scale", ["'weight_ih_l0_scale'", "-0.5", "not negative"] },
        { "nan-scale", ["'weight_ih_l0_scale'", "NaN"] },
        { "minus-128", ["'weight_hh_l0'", "-128"] },
        { "scale-on-bf16", ["'weight_ih_l0_scale'", "bf16", "mixed"] },
        { "scheme-on-bf16", ["recurrent.int8_scheme", "mixed"] },
        { "unknown-scheme", ["recurrent.int8_scheme", "asymmetric"] },
        { "int8-without-format", ["'weight_ih_l0'", "int8", "recurrent.weights_format"] },
        { "unknown-format", ["recurrent.weights_format", "int4"] },
        { "no-cell", ["recurrent.cell"] },
        { "metadata-hidden", ["recurrent.hidden_size", "5"] },
        { "reverse", ["unidirectional"] },
        { "bias-bf16", ["'bias_ih_l0'", "BF16", "F32"] },
        { "stray-scale", ["'weight_ih_l3_scale'"] },
        { "nan-bias", ["'bias_hh_l0'", "non-finite"] },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Malformed_quantized_files_are_refused_in_one_line(string mutation, string[] words)
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 4);
        var p = Parameters(cfg, new Random(1), 0.5);
        var int8 = SafeTensors.Read(QuantizedLayer.FromParameters(p, WeightFormat.Int8).ToSafeTensors(), "x");
        var bf16 = SafeTensors.Read(QuantizedLayer.FromParameters(p, WeightFormat.BFloat16).ToSafeTensors(), "x");
        var meta = new Dictionary<string, string>(int8.Metadata, StringComparer.Ordinal);
        var tensors = int8.Tensors.ToList();
        void Replace(string name, HostTensor t) => tensors[tensors.FindIndex(e => e.Key == name)] = new(name, t);
        switch (mutation)
        {
            case "wrong-dtype":
                Replace("weight_ih_l0", HostTensor.FromSingle([16, 3], new float[48]));
                break;
            case "missing-scale":
                tensors.RemoveAll(e => e.Key == "weight_hh_l0_scale");
                break;
            case "scale-count":
                Replace("weight_ih_l0_scale", HostTensor.FromSingle([15], new float[15]));
                break;
            case "scale-dtype":
                Replace("weight_ih_l0_scale", HostTensor.FromDouble([16], new double[16]));
                break;
            case "negative-scale":
                Replace("weight_ih_l0_scale", HostTensor.FromSingle([16], Enumerable.Repeat(-0.5f, 16).ToArray()));
                break;
            case "nan-scale":
                Replace("weight_ih_l0_scale", HostTensor.FromSingle([16], Enumerable.Repeat(float.NaN, 16).ToArray()));
                break;
            case "minus-128":
                var raw = int8["weight_hh_l0"].Bytes.ToArray();
                raw[5] = 0x80;
                Replace("weight_hh_l0", new HostTensor(TensorDType.I8, [16, 4], raw));
                break;
            case "scale-on-bf16":
                tensors = [.. bf16.Tensors, new("weight_ih_l0_scale", int8["weight_ih_l0_scale"])];
                meta = new(bf16.Metadata, StringComparer.Ordinal);
                break;
            case "scheme-on-bf16":
                tensors = [.. bf16.Tensors];
                meta = new(bf16.Metadata, StringComparer.Ordinal) { [QuantizedStateDict.Int8SchemeKey] = QuantizedStateDict.Int8Scheme };
                break;
            case "unknown-scheme":
                meta[QuantizedStateDict.Int8SchemeKey] = "asymmetric";
                break;
            case "int8-without-format":
                meta.Remove(QuantizedStateDict.FormatKey);
                break;
            case "unknown-format":
                meta[QuantizedStateDict.FormatKey] = "int4";
                break;
            case "no-cell":
                meta.Remove(PyTorchStateDict.MetadataKeys.Cell);
                break;
            case "metadata-hidden":
                meta[PyTorchStateDict.MetadataKeys.HiddenSize] = "5";
                break;
            case "reverse":
                tensors.AddRange(int8.Tensors.Where(e => !e.Key.EndsWith("_scale", StringComparison.Ordinal)).Select(e => new KeyValuePair<string, HostTensor>(e.Key + "_reverse", e.Value)));
                break;
            case "bias-bf16":
                Replace("bias_ih_l0", new HostTensor(TensorDType.BF16, [16], new byte[32]));
                break;
            case "stray-scale":
                tensors.Add(new("weight_ih_l3_scale", int8["weight_ih_l0_scale"]));
                break;
            case "nan-bias":
                Replace("bias_hh_l0", HostTensor.FromSingle([16], Enumerable.Repeat(float.NaN, 16).ToArray()));
                break;
            default:
                throw new ArgumentException(mutation);
        }

        var file = SafeTensors.Read(SafeTensors.Write(tensors, meta), "bad.safetensors");
        Fails(() => QuantizedLayer.FromSafeTensors(file, "bad.safetensors"), ["bad.safetensors", .. words]);
    }

    [Fact]
    public void A_float_state_dict_is_not_a_quantized_file()
    {
        var p = Parameters(new RecurrentConfig(CellKind.Lstm, 3, 4), new Random(1), 0.5);
        var file = SafeTensors.Read(PyTorchStateDict.ToSafeTensors(p), "f.safetensors");
        Assert.Null(QuantizedStateDict.FormatOf(file, "f.safetensors"));
        Fails(() => QuantizedLayer.FromSafeTensors(file, "f.safetensors"), "f.safetensors", "recurrent.weights_format");
    }

    [Fact]
    public void Byte_mutations_of_a_quantized_file_raise_only_interop_errors()
    {
        var p = Parameters(new RecurrentConfig(CellKind.Gru, 3, 4, numLayers: 2), new Random(3), 0.5);
        byte[] valid = QuantizedLayer.FromParameters(p, WeightFormat.Int8).ToSafeTensors();
        var rng = new Random(17);
        int loaded = 0, refused = 0;
        for (int i = 0; i < 2000; i++)
        {
            byte[] bytes = [.. valid];
            int flips = 1 + rng.Next(4);
            for (int k = 0; k < flips; k++)
            {
                bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            }

            try
            {
                var layer = QuantizedLayer.FromSafeTensors(SafeTensors.Read(bytes, "m"), "m");
                var y = new float[layer.Config.HiddenSize];
                layer.CreateStream().Step(new float[layer.Config.InputSize], y);
                loaded++;
            }
            catch (InteropFormatException e)
            {
                Assert.StartsWith("m: ", e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain('\n', e.Message);
                refused++;
            }
        }

        Assert.True(loaded > 0 && refused > 0, $"loaded {loaded}, refused {refused}");
    }

    private static (float[] Y, float[] HN, float[] CN) Run(QuantizedLayer q, float[] x, int t, int b, float[] h0, float[] c0)
    {
        var y = new float[t * b * q.Config.HiddenSize];
        var hn = new float[h0.Length];
        var cn = new float[c0.Length];
        q.Forward(q.CreateStream(b), x, t, y, hn, cn, h0, c0);
        return (y, hn, cn);
    }
}

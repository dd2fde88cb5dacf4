using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Quantized;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Sequence;

/// <summary>
/// The time loops of a quantized layer (bf16 or int8 W_ih/W_hh, <see cref="QuantizedLayerWeights"/>) at one width,
/// chosen once when its stream is made. A streaming step runs one row through every layer: W_ih x, then W_hh h (the
/// column-packed kernels, <see cref="ColumnCellLayout"/>: no horizontal sums), then the float32 gate kernels. A sequence runs in chunks of up to <see cref="ChunkInputs"/> (t, b) rows: per layer, the
/// chunk's input projections in one multi-input product (each weight register widened once for several inputs), then
/// the recurrence, which only multiplies by W_hh. Both paths give the same bits (the multi-input kernels equal the
/// one-input ones, and every row is quantized the same way). Owns the scratch: per step the quantized bytes of x and h
/// (int8) and the gate rows; for sequences, allocated at the first one, the
/// chunk's prepared inputs, projections and layer outputs.
/// </summary>
internal abstract unsafe class QuantizedStepper
{
    /// <summary>The most (t, b) rows a sequence chunk projects at once (B rows when B is larger).</summary>
    public const int ChunkInputs = 32;

    /// <summary>Steps row <paramref name="row"/> of the state with input x (I floats), writing the top h to y (H floats).</summary>
    public abstract void Row(int row, float* x, float* y);

    /// <summary>
    /// Runs <paramref name="seqLen"/> steps of every row from the current state: input (T, B, I) or (B, T, I) when
    /// <paramref name="batchFirst"/>, output likewise with H.
    /// </summary>
    public abstract void Run(float* input, int seqLen, float* output, bool batchFirst);

    /// <summary>Builds the stepper for <paramref name="variant"/>'s width over the pinned state arrays h and c (L, B, H).</summary>
    public static QuantizedStepper Create(RecurrentConfig config, WeightFormat format, KernelVariant variant, QuantizedLayerWeights[] layers, int batch, float[] h, float[] c)
    {
        var v = new Factory { Config = config, Format = format, Layers = layers, Batch = batch, H = h, C = c };
        return KernelCatalog.Visit<Factory, QuantizedStepper>(variant, ref v);
    }

    internal static T* Pointer<T>(T[] a)
        where T : unmanaged => a.Length == 0 ? null : (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(a));

    private struct Factory : ISimdVisitor<QuantizedStepper>
    {
        public RecurrentConfig Config;
        public WeightFormat Format;
        public QuantizedLayerWeights[] Layers;
        public int Batch;
        public float[] H;
        public float[] C;

        public readonly QuantizedStepper Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged => new QuantizedStepper<TS, TV>(Config, Format, Layers, Batch, H, C);
    }
}

/// <summary>The <see cref="QuantizedStepper"/> at width <typeparamref name="TS"/>.</summary>
internal sealed unsafe class QuantizedStepper<TS, TV> : QuantizedStepper
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    private readonly QuantizedLayerWeights[] _layers;
    private readonly CellKind _cell;
    private readonly WeightFormat _format;
    private readonly int _batch;
    private readonly int _hidden;
    private readonly int _gates;
    private readonly int _widest;
    private readonly float* _h;
    private readonly float* _c;
    private readonly float[] _pad;
    private readonly byte[] _bytes;
    private readonly sbyte[] _signed;
    private readonly byte[] _magnitudes;
    private readonly float[] _gateRow;
    private readonly float[] _gh;
    private float[] _chunkInput = [];
    private byte[] _chunkBytes = [];
    private float[] _chunkScales = [];
    private float[] _projection = [];
    private float[] _chunkOutput = [];

    public QuantizedStepper(RecurrentConfig cfg, WeightFormat format, QuantizedLayerWeights[] layers, int batch, float[] h, float[] c)
    {
        _layers = layers;
        _cell = cfg.Cell;
        _format = format;
        _batch = batch;
        _hidden = cfg.HiddenSize;
        _gates = cfg.GateCount * cfg.HiddenSize;
        _h = Pointer(h);
        _c = Pointer(c);
        _widest = QuantizedMatrix.PadTo64(Math.Max(cfg.InputSize, cfg.HiddenSize));
        _pad = GC.AllocateArray<float>(_widest, pinned: true);
        _bytes = GC.AllocateArray<byte>(_widest, pinned: true);
        _signed = GC.AllocateArray<sbyte>(_widest, pinned: true);
        _magnitudes = GC.AllocateArray<byte>(_widest, pinned: true);
        _gateRow = GC.AllocateArray<float>(_gates, pinned: true);
        _gh = GC.AllocateArray<float>(_gates, pinned: true);
        foreach (var w in layers)
        {
            // Packed now, so that no step allocates.
            foreach (var m in new[] { w.Ih, w.Hh })
            {
                if (format == WeightFormat.Int8)
                {
                    _ = m.Int8Columns(TS.Count);
                }
                else if (format == WeightFormat.BFloat16)
                {
                    _ = m.BFloat16Columns(TS.Count);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Row(int row, float* x, float* y)
    {
        float* gates = Pointer(_gateRow);
        float* input = x;
        for (int l = 0; l < _layers.Length; l++)
        {
            var w = _layers[l];
            Product(w.Ih, input, gates, accumulate: false);
            input = Recur(w, l, row, gates);
        }

        Buffer.MemoryCopy(input, y, (long)_hidden * sizeof(float), (long)_hidden * sizeof(float));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(float* input, int seqLen, float* output, bool batchFirst)
    {
        int b = _batch, hs = _hidden, inputSize = _layers[0].InputSize;
        if (_format == WeightFormat.Float32)
        {
            for (int t = 0; t < seqLen; t++)
            {
                for (int r = 0; r < b; r++)
                {
                    nint at = batchFirst ? ((nint)r * seqLen) + t : ((nint)t * b) + r;
                    Row(r, input + (at * inputSize), output + (at * hs));
                }
            }

            return;
        }

        int chunkSteps = Math.Max(1, ChunkInputs / b);
        EnsureChunk(chunkSteps * b);
        float* projection = Pointer(_projection);
        float* chunkOutput = Pointer(_chunkOutput);
        for (int t0 = 0; t0 < seqLen; t0 += chunkSteps)
        {
            int steps = Math.Min(chunkSteps, seqLen - t0);
            int n = steps * b;
            for (int l = 0; l < _layers.Length; l++)
            {
                var w = _layers[l];
                int k = w.InputSize;
                for (int j = 0; j < n; j++)
                {
                    int t = t0 + (j / b), r = j % b;
                    nint at = batchFirst ? ((nint)r * seqLen) + t : ((nint)t * b) + r;
                    Prepare(w.Ih, l == 0 ? input + (at * inputSize) : chunkOutput + ((nint)j * hs), j);
                }

                Project(w.Ih, n, projection);
                bool top = l == _layers.Length - 1;
                for (int j = 0; j < n; j++)
                {
                    int t = t0 + (j / b), r = j % b;
                    float* h = Recur(w, l, r, projection + ((nint)j * _gates));
                    float* to = top ? output + ((batchFirst ? ((nint)r * seqLen) + t : ((nint)t * b) + r) * hs) : chunkOutput + ((nint)j * hs);
                    Buffer.MemoryCopy(h, to, (long)hs * sizeof(float), (long)hs * sizeof(float));
                }
            }
        }
    }

    /// <summary>Adds W_hh h of layer <paramref name="l"/>, row <paramref name="row"/>, to its input projection and runs the gates; returns the new h (in the state).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* Recur(QuantizedLayerWeights w, int l, int row, float* gates)
    {
        int hs = _hidden;
        nint state = (((nint)l * _batch) + row) * hs;
        float* h = _h + state;
        switch (_cell)
        {
            case CellKind.Lstm:
                Product(w.Hh, h, gates, accumulate: true);
                LstmGates.Forward<TS, TV>(hs, gates, Pointer(w.Folded), _c + state, _c + state, h, null, saveActivations: false);
                break;
            case CellKind.Gru:
                float* gh = Pointer(_gh);
                Product(w.Hh, h, gh, accumulate: false);
                GruGates.Forward<TS, TV>(hs, gates, gh, Pointer(w.BiasIh), Pointer(w.BiasHh), h, h, saveActivations: false);
                break;
            default:
                Product(w.Hh, h, gates, accumulate: true);
                ElmanGates.Forward<TS, TV>(hs, gates, Pointer(w.Folded), h, _cell == CellKind.RnnRelu);
                break;
        }

        return h;
    }

    /// <summary>y (+)= W·v for the matrix's format; v has <c>m.Columns</c> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Product(QuantizedMatrix m, float* v, float* y, bool accumulate)
    {
        int k = m.Columns;
        switch (_format)
        {
            case WeightFormat.Float32:
                GemvKernel<TS, TV>.Multiply(m.Float32, m.Rows, k, v, y, accumulate);
                break;
            case WeightFormat.BFloat16:
                BFloat16GemvKernel<TS, TV>.MultiplyColumns(m.BFloat16Columns(TS.Count), m.Rows, k, v, y, accumulate);
                break;

            default:
            {
                byte* u = Pointer(_bytes);
                float scale = Int8Quantizer.QuantizeUnsigned<TS, TV>(v, k, u, Pointer(_pad));
                Int8Quantizer.SplitSigns(u, k, Pointer(_signed), Pointer(_magnitudes));
                Int8GemvKernel<TS, TV>.MultiplyColumns(m.Int8Columns(TS.Count), m.Scales, m.Rows, k, Pointer(_magnitudes), Pointer(_signed), scale, y, accumulate);
                break;
            }
        }
    }

    /// <summary>Writes chunk row <paramref name="j"/>'s input, <c>m.Stride</c> apart, in the form W_ih's product reads (as <see cref="Product"/> does).</summary>
    private void Prepare(QuantizedMatrix m, float* v, int j)
    {
        nint at = (nint)j * m.Stride;
        if (_format == WeightFormat.BFloat16)
        {
            Buffer.MemoryCopy(v, Pointer(_chunkInput) + at, (long)m.Columns * sizeof(float), (long)m.Columns * sizeof(float));
        }
        else
        {
            _chunkScales[j] = Int8Quantizer.QuantizeUnsigned<TS, TV>(v, m.Columns, Pointer(_chunkBytes) + at, Pointer(_pad));
        }
    }

    /// <summary>The input projections of the chunk's first <paramref name="n"/> prepared rows, one row of G·H per input.</summary>
    private void Project(QuantizedMatrix m, int n, float* projection)
    {
        if (_format == WeightFormat.BFloat16)
        {
            BFloat16GemvKernel<TS, TV>.MultiplyManyColumns(m.BFloat16Columns(TS.Count), m.Rows, m.Columns, Pointer(_chunkInput), m.Stride, n, projection, _gates);
        }
        else
        {
            byte* u = Pointer(_chunkBytes);
            Int8GemvKernel<TS, TV>.MultiplyMany(m.Int8, m.RowSums, m.Scales, m.Rows, m.Stride, u, Pointer(_chunkScales), n, projection, _gates);
        }
    }

    private void EnsureChunk(int rows)
    {
        if (_projection.Length != 0)
        {
            return;
        }

        if (_format == WeightFormat.BFloat16)
        {
            _chunkInput = GC.AllocateArray<float>(rows * _widest, pinned: true);
        }
        else
        {
            _chunkBytes = GC.AllocateArray<byte>(rows * _widest, pinned: true);
            _chunkScales = GC.AllocateArray<float>(rows, pinned: true);
        }

        _chunkOutput = GC.AllocateArray<float>(rows * _hidden, pinned: true);
        _projection = GC.AllocateArray<float>(rows * _gates, pinned: true);
    }
}

using System.Runtime.CompilerServices;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Quantized;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Layers;

/// <summary>
/// One row's time step through every layer of a <see cref="QuantizedLayer"/> at one width, chosen once when a stream is
/// made: the input products in the layer's format (W_ih x, then W_hh h), then the float32 gate kernels. Owns the
/// per-step scratch: the padded float32 input (bfloat16), the quantized bytes of x and h (int8), the gate rows.
/// </summary>
internal abstract unsafe class QuantizedStepper
{
    /// <summary>Steps row <paramref name="row"/> of the state with input x (I floats), writing the top h to y (H floats).</summary>
    public abstract void Row(int row, float* x, float* y);

    public static QuantizedStepper Create(QuantizedLayer layer, int batch, float[] h, float[] c)
    {
        var v = new Factory { Layer = layer, Batch = batch, H = h, C = c };
        return KernelCatalog.Visit<Factory, QuantizedStepper>(layer.Variant, ref v);
    }

    private struct Factory : ISimdVisitor<QuantizedStepper>
    {
        public QuantizedLayer Layer;
        public int Batch;
        public float[] H;
        public float[] C;

        public readonly QuantizedStepper Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged => new QuantizedStepper<TS, TV>(Layer, Batch, H, C);
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
    private readonly float* _h;
    private readonly float* _c;
    private readonly float[] _pad;
    private readonly byte[] _bytes;
    private readonly float[] _gates;
    private readonly float[] _gh;

    public QuantizedStepper(QuantizedLayer layer, int batch, float[] h, float[] c)
    {
        var cfg = layer.Config;
        _layers = layer.Layers;
        _cell = cfg.Cell;
        _format = layer.Format;
        _batch = batch;
        _hidden = cfg.HiddenSize;
        _h = QuantizedStreamState.Pointer(h);
        _c = QuantizedStreamState.Pointer(c);
        int widest = QuantizedMatrix.PadTo64(Math.Max(cfg.InputSize, cfg.HiddenSize));
        _pad = GC.AllocateArray<float>(widest, pinned: true);
        _bytes = GC.AllocateArray<byte>(widest, pinned: true);
        _gates = GC.AllocateArray<float>(cfg.GateCount * cfg.HiddenSize, pinned: true);
        _gh = GC.AllocateArray<float>(cfg.GateCount * cfg.HiddenSize, pinned: true);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Row(int row, float* x, float* y)
    {
        int hs = _hidden;
        float* gates = QuantizedStreamState.Pointer(_gates);
        float* gh = QuantizedStreamState.Pointer(_gh);
        float* input = x;
        for (int l = 0; l < _layers.Length; l++)
        {
            var w = _layers[l];
            nint state = (((nint)l * _batch) + row) * hs;
            float* h = _h + state;
            Product(w.Ih, input, gates, accumulate: false);
            switch (_cell)
            {
                case CellKind.Lstm:
                    Product(w.Hh, h, gates, accumulate: true);
                    LstmGates.Forward<TS, TV>(hs, gates, QuantizedStreamState.Pointer(w.Folded), _c + state, _c + state, h, null, saveActivations: false);
                    break;
                case CellKind.Gru:
                    Product(w.Hh, h, gh, accumulate: false);
                    GruGates.Forward<TS, TV>(hs, gates, gh, QuantizedStreamState.Pointer(w.BiasIh), QuantizedStreamState.Pointer(w.BiasHh), h, h, saveActivations: false);
                    break;
                default:
                    Product(w.Hh, h, gates, accumulate: true);
                    ElmanGates.Forward<TS, TV>(hs, gates, QuantizedStreamState.Pointer(w.Folded), h, _cell == CellKind.RnnRelu);
                    break;
            }

            input = h;
        }

        Buffer.MemoryCopy(input, y, (long)hs * sizeof(float), (long)hs * sizeof(float));
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
            {
                // The kernel reads Stride floats, de-interleaved to match its even/odd weight halves.
                float* pad = QuantizedStreamState.Pointer(_pad);
                BFloat16GemvKernel<TS, TV>.PrepareInput(v, k, m.Stride, pad);
                BFloat16GemvKernel<TS, TV>.Multiply(m.BFloat16Bits, m.Rows, m.Stride, pad, y, accumulate);
                break;
            }

            default:
            {
                byte* u = QuantizedStreamState.Pointer(_bytes);
                float scale = Int8Quantizer.QuantizeUnsigned(v, k, u);
                Int8GemvKernel<TS, TV>.Multiply(m.Int8, m.RowSums, m.Scales, m.Rows, m.Stride, u, scale, y, accumulate);
                break;
            }
        }
    }
}

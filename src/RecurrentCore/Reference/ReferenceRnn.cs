namespace RecurrentCore.Reference;

/// <summary>
/// The executable specification of RecurrentCore's numerics: a stacked, optionally bidirectional RNN/LSTM/GRU
/// forward and full backward through time in double precision with plain loops, PyTorch semantics.
/// Every fast path is tested against this.
/// </summary>
/// <remarks>
/// Each batch entry runs on its own over its valid steps 0..len−1 (pack_padded_sequence semantics): the forward
/// direction visits t = 0..len−1, the reverse direction t = len−1..0; layer k+1 reads layer k's outputs of both
/// directions concatenated (forward first). Outputs past a sequence's length are zero and h_n/c_n are the states
/// after each direction's last visited step.
/// </remarks>
public static class ReferenceRnn
{
    /// <summary>Runs the forward pass.</summary>
    /// <exception cref="ArgumentException">An array's length or a sequence length does not fit the configuration.</exception>
    public static SequenceOutputs Forward(RecurrentParameters parameters, SequenceInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(inputs);
        var run = new Run(parameters, inputs);
        run.Forward();
        return run.Outputs();
    }

    /// <summary>Runs the forward pass, then back-propagates <paramref name="upstream"/> through all layers and steps.</summary>
    /// <exception cref="ArgumentException">An array's length or a sequence length does not fit the configuration.</exception>
    public static (SequenceOutputs Outputs, SequenceGradients Gradients) Backward(RecurrentParameters parameters, SequenceInputs inputs, UpstreamGradients upstream)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(upstream);
        var run = new Run(parameters, inputs);
        run.Forward();
        return (run.Outputs(), run.Backward(upstream));
    }

    /// <summary>One forward (and optional backward) with everything kept, time-major inside.</summary>
    private sealed class Run
    {
        private readonly RecurrentParameters _p;
        private readonly RecurrentConfig _cfg;
        private readonly int _t, _b, _h, _d, _g;
        private readonly int _hp; // features of h: P with an LSTM projection, else H
        private readonly int[] _lengths;
        private readonly double[] _input; // (T, B, I), time-major
        private readonly double[] _h0, _c0; // (L·D, B, H)
        private readonly double[][] _layerOut; // per layer: (T, B, D·H)
        private readonly double[] _hn, _cn;

        // Per (layer, direction, batch entry): states after each visited step s, index 0 the initial state
        // ((len+1)·H), activated gates per step (len·G·H) and, for GRU, W_hn h + b_hn per step (len·H).
        private readonly double[][] _hs, _cs, _gates, _hiddenN, _hPre;

        public Run(RecurrentParameters p, SequenceInputs inputs)
        {
            _p = p;
            _cfg = p.Config;
            _t = inputs.SeqLen;
            _b = inputs.Batch;
            _h = _cfg.HiddenSize;
            _d = _cfg.NumDirections;
            _g = _cfg.GateCount;
            _hp = _cfg.StateSize;
            if (!_cfg.LinearBeforeReset && _cfg.Cell != CellKind.Gru)
            {
                throw new ArgumentException($"LinearBeforeReset = false is only defined for GRU, this is {_cfg.Cell.Name()}", nameof(p));
            }

            ArgumentOutOfRangeException.ThrowIfLessThan(inputs.SeqLen, 1, nameof(inputs));
            ArgumentOutOfRangeException.ThrowIfLessThan(inputs.Batch, 1, nameof(inputs));
            int states = _cfg.NumLayers * _d * _b * _h;
            int hStates = _cfg.NumLayers * _d * _b * _hp;
            Check(inputs.Input, (long)_t * _b * _cfg.InputSize, "input");
            if (inputs.H0 is not null)
            {
                Check(inputs.H0, hStates, "h0");
            }

            if (inputs.C0 is not null)
            {
                if (!_cfg.Cell.HasCellState())
                {
                    throw new ArgumentException($"c0: only an LSTM has a cell state, this is {_cfg.Cell.Name()}", nameof(inputs));
                }

                Check(inputs.C0, states, "c0");
            }

            _lengths = new int[_b];
            for (int b = 0; b < _b; b++)
            {
                int len = inputs.Lengths is null ? _t : inputs.Lengths[b];
                if (len < 1 || len > _t)
                {
                    throw new ArgumentException($"lengths[{b}] = {len} is outside 1..{_t}", nameof(inputs));
                }

                _lengths[b] = len;
            }

            if (inputs.Lengths is not null && inputs.Lengths.Length != _b)
            {
                throw new ArgumentException($"lengths has {inputs.Lengths.Length} entries, expected batch {_b}", nameof(inputs));
            }

            _input = ToTimeMajor(inputs.Input, _cfg.InputSize);
            _h0 = inputs.H0 ?? new double[hStates];
            _c0 = inputs.C0 ?? new double[states];
            _layerOut = new double[_cfg.NumLayers][];
            _hn = new double[hStates];
            _cn = new double[states];
            int slots = _cfg.NumLayers * _d * _b;
            _hs = new double[slots][];
            _cs = new double[slots][];
            _gates = new double[slots][];
            _hiddenN = new double[slots][];
            _hPre = new double[slots][];
        }

        public void Forward()
        {
            double[] layerIn = _input;
            for (int layer = 0; layer < _cfg.NumLayers; layer++)
            {
                int inSize = _cfg.LayerInputSize(layer);
                var output = new double[_t * _b * _d * _hp];
                for (int dir = 0; dir < _d; dir++)
                {
                    var w = CellWeights.Of(_p, layer, dir);
                    for (int b = 0; b < _b; b++)
                    {
                        int slot = Slot(layer, dir, b), len = _lengths[b];
                        int state = (((layer * _d) + dir) * _b + b) * _h;
                        int hState = (((layer * _d) + dir) * _b + b) * _hp;
                        var hs = _hs[slot] = new double[(len + 1) * _hp];
                        var cs = _cs[slot] = new double[(len + 1) * _h];
                        var gates = _gates[slot] = new double[len * _g * _h];
                        var hiddenN = _hiddenN[slot] = new double[len * _h];
                        var hPre = _hPre[slot] = new double[_hp == _h ? 0 : len * _h];
                        _h0.AsSpan(hState, _hp).CopyTo(hs);
                        _c0.AsSpan(state, _h).CopyTo(cs);
                        for (int s = 0; s < len; s++)
                        {
                            int t = dir == 0 ? s : len - 1 - s;
                            var xt = layerIn.AsSpan(((t * _b) + b) * inSize, inSize);
                            var h = hs.AsSpan(s * _hp, _hp);
                            var hOut = hs.AsSpan((s + 1) * _hp, _hp);
                            switch (_cfg.Cell)
                            {
                                case CellKind.Lstm:
                                    LstmReference.Forward(w, xt, h, cs.AsSpan(s * _h, _h), gates.AsSpan(s * 4 * _h, 4 * _h), hOut, cs.AsSpan((s + 1) * _h, _h), hPre.Length == 0 ? default : hPre.AsSpan(s * _h, _h));
                                    break;
                                case CellKind.Gru when _cfg.LinearBeforeReset:
                                    GruReference.Forward(w, xt, h, gates.AsSpan(s * 3 * _h, 3 * _h), hiddenN.AsSpan(s * _h, _h), hOut);
                                    break;
                                case CellKind.Gru:
                                    GruReference.ForwardResetBeforeLinear(w, xt, h, gates.AsSpan(s * 3 * _h, 3 * _h), hiddenN.AsSpan(s * _h, _h), hOut);
                                    break;
                                default:
                                    ElmanReference.Forward(w, _cfg.Cell == CellKind.RnnRelu, xt, h, hOut);
                                    break;
                            }

                            hOut.CopyTo(output.AsSpan(((((t * _b) + b) * _d) + dir) * _hp, _hp));
                        }

                        hs.AsSpan(len * _hp, _hp).CopyTo(_hn.AsSpan(hState, _hp));
                        cs.AsSpan(len * _h, _h).CopyTo(_cn.AsSpan(state, _h));
                    }
                }

                _layerOut[layer] = output;
                layerIn = output;
            }
        }

        public SequenceOutputs Outputs() => new(
            FromTimeMajor(_layerOut[^1], _d * _hp),
            (double[])_hn.Clone(),
            _cfg.Cell.HasCellState() ? (double[])_cn.Clone() : null);

        public SequenceGradients Backward(UpstreamGradients up)
        {
            int states = _cn.Length, hStates = _hn.Length;
            Check(up.Output, (long)_t * _b * _d * _hp, "grad_output");
            if (up.HN is not null)
            {
                Check(up.HN, hStates, "grad_h_n");
            }

            if (up.CN is not null)
            {
                if (!_cfg.Cell.HasCellState())
                {
                    throw new ArgumentException($"grad_c_n: only an LSTM has a cell state, this is {_cfg.Cell.Name()}", nameof(up));
                }

                Check(up.CN, states, "grad_c_n");
            }

            var grads = new RecurrentParameters(_cfg);
            var dH0 = new double[hStates];
            var dC0 = new double[states];
            double[] dLayerOut = ToTimeMajor(up.Output, _d * _hp);
            var dh = new double[_hp];
            var dc = new double[_h];
            var dhPrev = new double[_hp];
            var dcPrev = new double[_h];
            for (int layer = _cfg.NumLayers - 1; layer >= 0; layer--)
            {
                int inSize = _cfg.LayerInputSize(layer);
                double[] layerIn = layer == 0 ? _input : _layerOut[layer - 1];
                var dLayerIn = new double[_t * _b * inSize];
                for (int dir = 0; dir < _d; dir++)
                {
                    var w = CellWeights.Of(_p, layer, dir);
                    var gw = CellWeights.Of(grads, layer, dir);
                    for (int b = 0; b < _b; b++)
                    {
                        int slot = Slot(layer, dir, b), len = _lengths[b];
                        int state = (((layer * _d) + dir) * _b + b) * _h;
                        int hState = (((layer * _d) + dir) * _b + b) * _hp;
                        double[] hs = _hs[slot], cs = _cs[slot], gates = _gates[slot], hiddenN = _hiddenN[slot], hPre = _hPre[slot];
                        if (up.HN is null)
                        {
                            Array.Clear(dh);
                        }
                        else
                        {
                            up.HN.AsSpan(hState, _hp).CopyTo(dh);
                        }

                        if (up.CN is null)
                        {
                            Array.Clear(dc);
                        }
                        else
                        {
                            up.CN.AsSpan(state, _h).CopyTo(dc);
                        }

                        for (int s = len - 1; s >= 0; s--)
                        {
                            int t = dir == 0 ? s : len - 1 - s;
                            ReferenceMath.Add(dh, dLayerOut.AsSpan(((((t * _b) + b) * _d) + dir) * _hp, _hp));
                            var xt = layerIn.AsSpan(((t * _b) + b) * inSize, inSize);
                            var dxt = dLayerIn.AsSpan(((t * _b) + b) * inSize, inSize);
                            var h = hs.AsSpan(s * _hp, _hp);
                            switch (_cfg.Cell)
                            {
                                case CellKind.Lstm:
                                    LstmReference.Backward(w, gw, xt, h, cs.AsSpan(s * _h, _h), gates.AsSpan(s * 4 * _h, 4 * _h), cs.AsSpan((s + 1) * _h, _h), dh, dc, dxt, dhPrev, dcPrev, hPre.Length == 0 ? default : hPre.AsSpan(s * _h, _h));
                                    (dc, dcPrev) = (dcPrev, dc);
                                    break;
                                case CellKind.Gru when _cfg.LinearBeforeReset:
                                    GruReference.Backward(w, gw, xt, h, gates.AsSpan(s * 3 * _h, 3 * _h), hiddenN.AsSpan(s * _h, _h), dh, dxt, dhPrev);
                                    break;
                                case CellKind.Gru:
                                    GruReference.BackwardResetBeforeLinear(w, gw, xt, h, gates.AsSpan(s * 3 * _h, 3 * _h), dh, dxt, dhPrev);
                                    break;
                                default:
                                    ElmanReference.Backward(w, gw, _cfg.Cell == CellKind.RnnRelu, xt, h, hs.AsSpan((s + 1) * _h, _h), dh, dxt, dhPrev);
                                    break;
                            }

                            (dh, dhPrev) = (dhPrev, dh);
                        }

                        dh.CopyTo(dH0.AsSpan(hState, _hp));
                        dc.CopyTo(dC0.AsSpan(state, _h));
                    }
                }

                dLayerOut = dLayerIn;
            }

            return new SequenceGradients(grads, FromTimeMajor(dLayerOut, _cfg.InputSize), dH0, _cfg.Cell.HasCellState() ? dC0 : null);
        }

        private int Slot(int layer, int dir, int b) => (((layer * _d) + dir) * _b) + b;

        private static void Check(double[] array, long expected, string name)
        {
            ArgumentNullException.ThrowIfNull(array, name);
            if (array.Length != expected)
            {
                throw new ArgumentException($"{name} has {array.Length} values, expected {expected}", name);
            }
        }

        private double[] ToTimeMajor(double[] data, int features) => _cfg.BatchFirst ? Transpose(data, _b, _t, features) : (double[])data.Clone();

        private double[] FromTimeMajor(double[] data, int features) => _cfg.BatchFirst ? Transpose(data, _t, _b, features) : data;

        /// <summary>(A, B, F) → (B, A, F).</summary>
        private static double[] Transpose(double[] data, int a, int b, int features)
        {
            var result = new double[data.Length];
            for (int i = 0; i < a; i++)
            {
                for (int j = 0; j < b; j++)
                {
                    data.AsSpan(((i * b) + j) * features, features).CopyTo(result.AsSpan(((j * a) + i) * features, features));
                }
            }

            return result;
        }
    }
}

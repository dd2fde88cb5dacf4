// RTNeural side of the peer benchmark (bench/RecurrentCore.Peers): a line-protocol server that times one streaming
// step (B = 1, state carried) of RTNeural's LSTM/GRU layers on the weights the C# driver wrote, so its slices
// interleave with ours in the same rounds. Built once per backend (Eigen, xsimd, STL) by build.sh beside this file.
//
// Kinds: "dynamic" = run-time-sized RTNeural::LSTMLayer<float> / GRULayer<float> called through a
// RTNeural::Layer<float> pointer (as RTNeural::Model<float> calls them); "static" = compile-time-sized
// RTNeural::ModelT<float, H, H, LSTMLayerT<float, H, H>> (or GRULayerT), instantiated for H = 16, 64, 256.
//
// Weights: PyTorch layout .npy files (float32, C order) in DIR: weight_ih_l0 [G*H, I], weight_hh_l0 [G*H, H],
// bias_ih_l0 and bias_hh_l0 [G*H], x [K, 1, I]. RTNeural takes Keras layout: W [I][G*H], U [H][G*H]; LSTM gates
// i, f, c, o (= PyTorch's i, f, g, o) with one bias b_ih + b_hh; GRU gates z, r, h (PyTorch: r, z, n) with two
// biases [input, recurrent] and the reset applied after the recurrent product (PyTorch's GRU).
//
// Commands (one per line; one reply line each, "ok ..." or "error MESSAGE"):
//   load SLOT KIND CELL H DIR   builds the layer, runs the K check steps from zero state on x, writes
//                               DIR/rtneural_SLOT_output.npy [K, 1, H] and DIR/rtneural_SLOT_h_n.npy [1, 1, H]
//   warm SLOT SECONDS           runs steps on x[0] (state carried) for about SECONDS; replies "ok NS_PER_STEP"
//   time SLOT SECONDS           times groups of steps (each >= 5 us) for about SECONDS; replies "ok NS NS ..."
//   unload SLOT | quit
// Output of "info" (first line, unasked): "ready BACKEND FLAGS".

#include <RTNeural/RTNeural.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef RTN_BACKEND
#error "define RTN_BACKEND (e.g. -DRTN_BACKEND=\"eigen\")"
#endif
#ifndef RTN_FLAGS
#define RTN_FLAGS "unknown"
#endif

namespace
{
using clk = std::chrono::steady_clock;
constexpr double kGroupSeconds = 5e-6;

// ---------------------------------------------------------------- .npy (float32, C order, version 1 or 2)
std::vector<float> read_npy(const std::string& path, size_t expect)
{
    std::ifstream f(path, std::ios::binary);
    if(!f)
        throw std::runtime_error(path + ": cannot open");
    char magic[8];
    f.read(magic, 8);
    if(!f || std::memcmp(magic, "\x93NUMPY", 6) != 0)
        throw std::runtime_error(path + ": not an .npy file");
    uint32_t header_len = 0;
    if(magic[6] == 1)
    {
        unsigned char b[2];
        f.read(reinterpret_cast<char*>(b), 2);
        header_len = b[0] | (b[1] << 8);
    }
    else
    {
        unsigned char b[4];
        f.read(reinterpret_cast<char*>(b), 4);
        header_len = b[0] | (b[1] << 8) | (b[2] << 16) | ((uint32_t)b[3] << 24);
    }
    std::string header(header_len, '\0');
    f.read(header.data(), header_len);
    if(header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
        throw std::runtime_error(path + ": expected little-endian float32 in C order, header " + header);
    std::vector<float> v(expect);
    f.read(reinterpret_cast<char*>(v.data()), (std::streamsize)(expect * sizeof(float)));
    if(!f)
        throw std::runtime_error(path + ": fewer than " + std::to_string(expect) + " values");
    return v;
}

void write_npy(const std::string& path, const std::vector<float>& v, const std::vector<int>& shape)
{
    std::string dims;
    for(size_t i = 0; i < shape.size(); ++i)
        dims += std::to_string(shape[i]) + (shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    while((10 + header.size() + 1) % 64 != 0)
        header += ' ';
    header += '\n';
    std::ofstream f(path, std::ios::binary);
    f.write("\x93NUMPY\x01\x00", 8);
    const unsigned char len[2] = { (unsigned char)(header.size() & 0xff), (unsigned char)(header.size() >> 8) };
    f.write(reinterpret_cast<const char*>(len), 2);
    f.write(header.data(), (std::streamsize)header.size());
    f.write(reinterpret_cast<const char*>(v.data()), (std::streamsize)(v.size() * sizeof(float)));
    if(!f)
        throw std::runtime_error(path + ": write failed");
}

// ---------------------------------------------------------------- weights in Keras layout
struct Weights
{
    std::vector<std::vector<float>> W, U; // W[in][G*H], U[H][G*H]
    std::vector<float> b; // LSTM: b_ih + b_hh [4H]
    std::vector<std::vector<float>> b2; // GRU: [input, recurrent][3H]
};

Weights load_weights(const std::string& dir, bool lstm, int H)
{
    const int G = lstm ? 4 : 3, I = H;
    const auto wih = read_npy(dir + "/weight_ih_l0.npy", (size_t)G * H * I);
    const auto whh = read_npy(dir + "/weight_hh_l0.npy", (size_t)G * H * H);
    const auto bih = read_npy(dir + "/bias_ih_l0.npy", (size_t)G * H);
    const auto bhh = read_npy(dir + "/bias_hh_l0.npy", (size_t)G * H);
    // Keras gate g takes PyTorch gate src[g]: LSTM identity; GRU z <- z (1), r <- r (0), h <- n (2).
    const int lstm_src[4] = { 0, 1, 2, 3 }, gru_src[3] = { 1, 0, 2 };
    const int* src = lstm ? lstm_src : gru_src;
    Weights w;
    w.W.assign(I, std::vector<float>((size_t)G * H));
    w.U.assign(H, std::vector<float>((size_t)G * H));
    w.b.assign((size_t)G * H, 0.0f);
    w.b2.assign(2, std::vector<float>((size_t)G * H));
    for(int g = 0; g < G; ++g)
        for(int k = 0; k < H; ++k)
        {
            const size_t row = (size_t)src[g] * H + k, col = (size_t)g * H + k;
            for(int i = 0; i < I; ++i)
                w.W[i][col] = wih[row * I + i];
            for(int i = 0; i < H; ++i)
                w.U[i][col] = whh[row * H + i];
            w.b[col] = bih[row] + bhh[row];
            w.b2[0][col] = bih[row];
            w.b2[1][col] = bhh[row];
        }
    return w;
}

// ---------------------------------------------------------------- steppers
struct AlignedFloats
{
    float* p = nullptr;
    explicit AlignedFloats(size_t n)
    {
        p = static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64));
        if(!p)
            std::abort();
        std::memset(p, 0, n * sizeof(float));
    }
    ~AlignedFloats() { std::free(p); }
    AlignedFloats(const AlignedFloats&) = delete;
    AlignedFloats& operator=(const AlignedFloats&) = delete;
};

struct Stepper
{
    virtual ~Stepper() = default;
    virtual void reset() = 0;
    virtual float run(long n, const float* x) = 0; // n steps on the same input, state carried
    virtual const float* outputs() const = 0;
};

struct DynamicStepper final : Stepper
{
    std::unique_ptr<RTNeural::Layer<float>> layer;
    AlignedFloats out;
    DynamicStepper(std::unique_ptr<RTNeural::Layer<float>> l, int h)
        : layer(std::move(l))
        , out((size_t)h)
    {
    }
    void reset() override { layer->reset(); }
    float run(long n, const float* x) override
    {
        RTNeural::Layer<float>* L = layer.get();
        float acc = 0;
        for(long t = 0; t < n; ++t)
        {
            L->forward(x, out.p);
            acc += out.p[0];
        }
        return acc;
    }
    const float* outputs() const override { return out.p; }
};

template <typename ModelType>
struct StaticStepper final : Stepper
{
    std::unique_ptr<ModelType> model;
    explicit StaticStepper(std::unique_ptr<ModelType> m)
        : model(std::move(m))
    {
    }
    void reset() override { model->reset(); }
    float run(long n, const float* x) override
    {
        ModelType& m = *model;
        float acc = 0;
        for(long t = 0; t < n; ++t)
            acc += m.forward(x);
        return acc;
    }
    const float* outputs() const override { return model->getOutputs(); }
};

std::unique_ptr<Stepper> make_dynamic(bool lstm, int H, const Weights& w)
{
    std::unique_ptr<RTNeural::Layer<float>> l;
    if(lstm)
    {
        auto p = std::make_unique<RTNeural::LSTMLayer<float>>(H, H);
        p->setWVals(w.W);
        p->setUVals(w.U);
        p->setBVals(w.b);
        l = std::move(p);
    }
    else
    {
        auto p = std::make_unique<RTNeural::GRULayer<float>>(H, H);
        p->setWVals(w.W);
        p->setUVals(w.U);
        p->setBVals(w.b2);
        l = std::move(p);
    }
    l->reset();
    return std::make_unique<DynamicStepper>(std::move(l), H);
}

template <int H>
std::unique_ptr<Stepper> make_static_h(bool lstm, const Weights& w)
{
    if(lstm)
    {
        using M = RTNeural::ModelT<float, H, H, RTNeural::LSTMLayerT<float, H, H>>;
        auto m = std::make_unique<M>();
        auto& l = m->template get<0>();
        l.setWVals(w.W);
        l.setUVals(w.U);
        l.setBVals(w.b);
        m->reset();
        return std::make_unique<StaticStepper<M>>(std::move(m));
    }
    using M = RTNeural::ModelT<float, H, H, RTNeural::GRULayerT<float, H, H>>;
    auto m = std::make_unique<M>();
    auto& l = m->template get<0>();
    l.setWVals(w.W);
    l.setUVals(w.U);
    l.setBVals(w.b2);
    m->reset();
    return std::make_unique<StaticStepper<M>>(std::move(m));
}

std::unique_ptr<Stepper> make_static(bool lstm, int H, const Weights& w)
{
    switch(H)
    {
    case 16:
        return make_static_h<16>(lstm, w);
    case 64:
        return make_static_h<64>(lstm, w);
    case 256:
        return make_static_h<256>(lstm, w);
    default:
        throw std::runtime_error("static kind instantiated for H = 16, 64, 256 only");
    }
}

struct Slot
{
    std::unique_ptr<Stepper> stepper;
    std::unique_ptr<AlignedFloats> x0;
    long group = 1;
};

volatile float g_sink = 0;

std::string load(std::map<std::string, Slot>& slots, std::istringstream& in)
{
    std::string id, kind, cell, dir;
    int H = 0;
    if(!(in >> id >> kind >> cell >> H >> dir) || H <= 0)
        throw std::runtime_error("usage: load SLOT KIND CELL H DIR");
    if(cell != "lstm" && cell != "gru")
        throw std::runtime_error("cell must be lstm or gru, not " + cell);
    if(kind != "dynamic" && kind != "static")
        throw std::runtime_error("kind must be dynamic or static, not " + kind);
    const bool lstm = cell == "lstm";
    const Weights w = load_weights(dir, lstm, H);
    Slot s;
    s.stepper = kind == "static" ? make_static(lstm, H, w) : make_dynamic(lstm, H, w);
    // the check inputs: x [K, 1, H]; K from the file size is not known, so the driver's K = 8 is fixed here
    constexpr int K = 8;
    const auto xs = read_npy(dir + "/x.npy", (size_t)K * H);
    AlignedFloats x((size_t)H);
    std::vector<float> ys((size_t)K * H);
    s.stepper->reset();
    for(int k = 0; k < K; ++k)
    {
        std::memcpy(x.p, xs.data() + (size_t)k * H, (size_t)H * sizeof(float));
        s.stepper->run(1, x.p);
        std::memcpy(ys.data() + (size_t)k * H, s.stepper->outputs(), (size_t)H * sizeof(float));
    }
    write_npy(dir + "/rtneural_" + id + "_output.npy", ys, { K, 1, H });
    write_npy(dir + "/rtneural_" + id + "_h_n.npy", std::vector<float>(ys.end() - H, ys.end()), { 1, 1, H });
    s.x0 = std::make_unique<AlignedFloats>((size_t)H);
    std::memcpy(s.x0->p, xs.data(), (size_t)H * sizeof(float)); // the timed step feeds the first input
    slots[id] = std::move(s);
    return "ok";
}

std::string warm(Slot& s, double seconds)
{
    long n = 0;
    const auto t0 = clk::now();
    float acc = 0;
    while(n < 64 || std::chrono::duration<double>(clk::now() - t0).count() < seconds)
    {
        acc += s.stepper->run(16, s.x0->p);
        n += 16;
    }
    g_sink = acc;
    const double per = std::chrono::duration<double>(clk::now() - t0).count() / (double)n;
    s.group = std::max(1L, (long)std::ceil(kGroupSeconds / per));
    char b[64];
    std::snprintf(b, sizeof b, "ok %.3f", per * 1e9);
    return b;
}

std::string time_slot(Slot& s, double seconds)
{
    std::vector<double> ns;
    float acc = 0;
    const auto deadline = clk::now() + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(seconds));
    while(ns.empty() || clk::now() < deadline)
    {
        const auto a = clk::now();
        acc += s.stepper->run(s.group, s.x0->p);
        const auto b = clk::now();
        ns.push_back(std::chrono::duration<double, std::nano>(b - a).count() / (double)s.group);
    }
    g_sink = acc;
    std::string r = "ok";
    char b[32];
    for(double v : ns)
    {
        std::snprintf(b, sizeof b, " %.2f", v);
        r += b;
    }
    return r;
}
} // namespace

int main()
{
    std::printf("ready %s %s\n", RTN_BACKEND, RTN_FLAGS);
    std::fflush(stdout);
    std::map<std::string, Slot> slots;
    std::string line;
    while(std::getline(std::cin, line))
    {
        std::istringstream in(line);
        std::string cmd;
        if(!(in >> cmd))
            continue;
        std::string reply;
        try
        {
            if(cmd == "quit")
                break;
            if(cmd == "load")
                reply = load(slots, in);
            else if(cmd == "unload")
            {
                std::string id;
                in >> id;
                slots.erase(id);
                reply = "ok";
            }
            else if(cmd == "warm" || cmd == "time")
            {
                std::string id;
                double seconds = 0;
                if(!(in >> id >> seconds))
                    throw std::runtime_error("usage: " + cmd + " SLOT SECONDS");
                auto it = slots.find(id);
                if(it == slots.end())
                    throw std::runtime_error("no slot " + id);
                reply = cmd == "warm" ? warm(it->second, seconds) : time_slot(it->second, seconds);
            }
            else
                throw std::runtime_error("unknown command " + cmd);
        }
        catch(const std::exception& e)
        {
            reply = std::string("error ") + e.what();
            for(char& c : reply)
                if(c == '\n')
                    c = ' ';
        }
        std::printf("%s\n", reply.c_str());
        std::fflush(stdout);
    }
    return 0;
}

// The CUDA backend's kernels (compiled at run time by NVRTC); GEMMs go to cuBLAS.
// Same arithmetic as the WGSL kernels in this folder; grid-stride loops so any size fits.

extern "C" __global__ void bias_act(const float* b, float* y, unsigned rows, unsigned cols, unsigned relu) {
    unsigned total = rows * cols;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        float v = y[i] + b[i % cols];
        y[i] = relu ? fmaxf(v, 0.0f) : v;
    }
}

extern "C" __global__ void relu_grad(const float* a, float* dz, unsigned count) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += gridDim.x * blockDim.x) {
        if (a[i] <= 0.0f) dz[i] = 0.0f;
    }
}

extern "C" __global__ void bias_grad(const float* dz, float* gb, unsigned rows, unsigned cols) {
    for (unsigned j = blockIdx.x * blockDim.x + threadIdx.x; j < cols; j += gridDim.x * blockDim.x) {
        float s = 0.0f;
        for (unsigned r = 0; r < rows; r++) s += dz[r * cols + j];
        gb[j] = s;
    }
}

// Per row: loss = logsumexp(z) - z[y], correct = (first argmax == y), dz = (softmax - onehot) / rows.
extern "C" __global__ void xent(const float* z, const unsigned* y, float* dz, float* rows_out, unsigned rows, unsigned cols) {
    for (unsigned r = blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += gridDim.x * blockDim.x) {
        const float* row = z + (size_t)r * cols;
        float mx = row[0];
        unsigned arg = 0;
        for (unsigned j = 1; j < cols; j++) if (row[j] > mx) { mx = row[j]; arg = j; }
        float sum = 0.0f;
        for (unsigned j = 0; j < cols; j++) sum += expf(row[j] - mx);
        unsigned label = y[r];
        rows_out[2 * r] = logf(sum) + mx - row[label];
        rows_out[2 * r + 1] = arg == label ? 1.0f : 0.0f;
        float inv = 1.0f / (float)rows;
        for (unsigned j = 0; j < cols; j++) {
            float p = expf(row[j] - mx) / sum;
            dz[(size_t)r * cols + j] = (p - (j == label ? 1.0f : 0.0f)) * inv;
        }
    }
}

// One block of 256 threads. mode 0: out[2 slot] = mean loss, out[2 slot + 1] = correct;
// mode 1: out[0] += loss sum, out[1] += correct.
extern "C" __global__ void reduce(const float* rows_in, float* out, unsigned rows, unsigned mode, unsigned slot) {
    __shared__ float l[256];
    __shared__ float c[256];
    float ls = 0.0f, cs = 0.0f;
    for (unsigned r = threadIdx.x; r < rows; r += 256) { ls += rows_in[2 * r]; cs += rows_in[2 * r + 1]; }
    l[threadIdx.x] = ls;
    c[threadIdx.x] = cs;
    __syncthreads();
    for (unsigned s = 128; s > 0; s >>= 1) {
        if (threadIdx.x < s) { l[threadIdx.x] += l[threadIdx.x + s]; c[threadIdx.x] += c[threadIdx.x + s]; }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        if (mode == 0) { out[2 * slot] = l[0] / (float)rows; out[2 * slot + 1] = c[0]; }
        else { out[0] += l[0]; out[1] += c[0]; }
    }
}

extern "C" __global__ void sgd(float* w, const float* g, float* m, unsigned n, float lr, float momentum) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float v = momentum * m[i] + g[i];
        m[i] = v;
        w[i] -= lr * v;
    }
}

extern "C" __global__ void adam(float* w, const float* g, float* m, float* v, unsigned n, float lr, float b1, float b2,
                                float eps, float bc1, float bc2) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
    }
}

// The read bandwidth bound of a streaming step: sums a buffer of S MiB over and over with AVX-512 loads, as the
// step's product streams its weights, and prints µs per pass and GB/s. Mode 0 reads front to back every pass;
// mode 1 alternates direction (what the step's panels do), so the lines read last are still cached.
//   gcc -O2 -march=native bench/peers/stream_bound.c -o /tmp/stream_bound
//   taskset -c 0 /tmp/stream_bound 2 0     # LSTM H = I = 256: (I + H)·4H floats = 2 MiB; GRU: 1.5 MiB; H = 64: 0.125
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  size_t bytes=(size_t)(atof(argv[1])*1024*1024); int mode=atoi(argv[2]);
  size_t n=bytes/4; float*a=aligned_alloc(64,bytes); for(size_t i=0;i<n;i++)a[i]=1e-6f*(i%7);
  size_t blocks=n/64; __m512 acc=_mm512_setzero_ps(); int it=0; double t0=now();
  for(;;){
    int rev = mode && (it&1);
    for(size_t b=0;b<blocks;b++){ size_t bb=rev? blocks-1-b : b; float*p=a+bb*64;
      if(mode==2) _mm_prefetch((char*)(p+ (rev? -512:512)),_MM_HINT_T0);
      acc=_mm512_add_ps(acc,_mm512_add_ps(_mm512_add_ps(_mm512_load_ps(p),_mm512_load_ps(p+16)),_mm512_add_ps(_mm512_load_ps(p+32),_mm512_load_ps(p+48))));}
    it++; if((it&63)==0 && now()-t0>1.0)break;}
  double dt=now()-t0; printf("%.2f MiB mode %d: %.2f us/pass %.1f GB/s (%f)\n",bytes/1048576.0,mode,dt/it*1e6,bytes*(double)it/dt/1e9,_mm512_reduce_add_ps(acc));
}

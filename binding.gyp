{
  "targets": [
    {
      "target_name": "stride_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/gemm.cc",
        "native/src/conv.cc",
        "native/src/conv_direct.cc",
        "native/src/conv_direct_channels.cc",
        "native/src/conv_block.cc",
        "native/src/conv_block_pool_grad.cc",
        "native/src/pool.cc",
        "native/src/adam.cc",
        "native/src/elementwise.cc",
        "native/src/threadpool.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++1y", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fno-exceptions", "-fomit-frame-pointer"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags_cc": ["-march=<!(node -p \"process.env.STRIDE_MARCH || 'native'\")"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_OPTIMIZATION_LEVEL": "3",
            "OTHER_CPLUSPLUSFLAGS": ["-fno-math-errno"]
          }
        }]
      ]
    }
  ]
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;

namespace MlNotes.Transforms.Onnx;

/// <summary>Builds an <see cref="InferenceSession"/> from model bytes on the requested provider, or falls back when asked.</summary>
internal static class OnnxSessionFactory
{
    private static readonly Dictionary<OnnxExecutionProvider, (string OrtName, string Package)> s_providers = new()
    {
        [OnnxExecutionProvider.Cpu] = ("CPUExecutionProvider", "Microsoft.ML.OnnxRuntime"),
        [OnnxExecutionProvider.Cuda] = ("CUDAExecutionProvider", "Microsoft.ML.OnnxRuntime.Gpu"),
        [OnnxExecutionProvider.TensorRt] = ("TensorrtExecutionProvider", "Microsoft.ML.OnnxRuntime.Gpu"),
        [OnnxExecutionProvider.DirectMl] = ("DmlExecutionProvider", "Microsoft.ML.OnnxRuntime.DirectML"),
        [OnnxExecutionProvider.OpenVino] = ("OpenVINOExecutionProvider", "Intel.ML.OnnxRuntime.OpenVino"),
    };

    /// <summary>The providers the loaded native runtime offers, or none when it cannot be loaded at all.</summary>
    public static IReadOnlyList<string> AvailableProviders()
    {
        try
        {
            return OrtEnv.Instance().GetAvailableProviders();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or OnnxRuntimeException)
        {
            return Array.Empty<string>();
        }
    }

    /// <summary>True when the native runtime in this process offers <paramref name="provider"/>.</summary>
    public static bool IsAvailable(OnnxExecutionProvider provider)
        => AvailableProviders().Contains(s_providers[provider].OrtName);

    /// <param name="modelBytes">The ONNX model.</param>
    /// <param name="settings">Provider, device, threads.</param>
    /// <param name="modelName">Names the model in errors: its path, or where its bytes came from.</param>
    /// <param name="corruptIsFormatError">True when the bytes come from a saved ML.NET model (a bad model is then a corrupt file).</param>
    /// <param name="actual">The provider the session runs on.</param>
    public static InferenceSession Create(byte[] modelBytes, OnnxExecutionSettings settings, string modelName, bool corruptIsFormatError, out OnnxExecutionProvider actual)
    {
        settings.Validate();
        actual = settings.Provider;
        SessionOptions options = new();
        try
        {
            Configure(options, settings);
            if (settings.Provider != OnnxExecutionProvider.Cpu && !TryAppendProvider(options, settings))
            {
                if (!settings.FallbackToCpu)
                {
                    var (ortName, package) = s_providers[settings.Provider];
                    string available = string.Join(", ", AvailableProviders());
                    throw new NotSupportedException(
                        $"The ONNX Runtime execution provider '{settings.Provider}' ({ortName}) is not available in this process " +
                        $"(available: {(available.Length == 0 ? "none" : available)}). Reference the {package} package in the application, " +
                        "or set FallbackToCpu to run on the CPU.");
                }

                // A failed append can leave the options half-configured: start again on the CPU.
                options.Dispose();
                options = new SessionOptions();
                Configure(options, settings);
                actual = OnnxExecutionProvider.Cpu;
            }

            try
            {
                return new InferenceSession(modelBytes, options);
            }
            catch (OnnxRuntimeException e)
            {
                string message = $"Could not load the ONNX model {modelName}: {e.Message}";
                if (corruptIsFormatError)
                {
                    throw new FormatException(message, e);
                }

                throw new InvalidOperationException(message, e);
            }
        }
        finally
        {
            // The session keeps what it needs; the options are ours to release.
            options.Dispose();
        }
    }

    /// <summary>Reads a model file, naming it in the error when it is missing.</summary>
    public static byte[] ReadModelFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The ONNX model file '{path}' does not exist.", path);
        }

        return File.ReadAllBytes(path);
    }

    /// <summary>The CPU part of a session's options, as <see cref="Create"/> sets them (threads resolved, see docs/threads.md).</summary>
    internal static void Configure(SessionOptions options, OnnxExecutionSettings settings)
    {
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        // Always an explicit count: with 0 ONNX Runtime would size its pool from the physical cores it detects and pin the threads.
        options.IntraOpNumThreads = settings.ResolvedIntraOpNumThreads;
        // Inter-op threads serve ORT_PARALLEL execution only; MlNotes runs graphs sequentially (ONNX Runtime's default mode).
        options.InterOpNumThreads = settings.InterOpNumThreads;
        options.AddSessionConfigEntry(AllowSpinningKey, settings.ResolvedAllowSpinning ? "1" : "0");
    }

    /// <summary>ONNX Runtime's session option that lets idle intra-op pool threads spin before they sleep ("1", its default) or not.</summary>
    internal const string AllowSpinningKey = "session.intra_op.allow_spinning";

    private static bool TryAppendProvider(SessionOptions options, OnnxExecutionSettings settings)
    {
        if (!IsAvailable(settings.Provider))
        {
            return false;
        }

        try
        {
            switch (settings.Provider)
            {
                case OnnxExecutionProvider.Cuda:
                    options.AppendExecutionProvider_CUDA(settings.GpuDeviceId);
                    break;
                case OnnxExecutionProvider.TensorRt:
                    options.AppendExecutionProvider_Tensorrt(settings.GpuDeviceId);
                    options.AppendExecutionProvider_CUDA(settings.GpuDeviceId);
                    break;
                case OnnxExecutionProvider.DirectMl:
                    options.AppendExecutionProvider_DML(settings.GpuDeviceId);
                    break;
                case OnnxExecutionProvider.OpenVino:
                    options.AppendExecutionProvider_OpenVINO();
                    break;
                default:
                    return false;
            }

            return true;
        }
        // The CPU-only native library has no CUDA entry point: ORT reports EntryPointNotFoundException there,
        // not OnnxRuntimeException (the case ML.NET's own FallbackToCpu misses).
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }
}

using System;
using System.IO;
using Xunit;

namespace MlNotes.Samples.Tests;

/// <summary>
/// A fact that runs a real one-node Slurm cluster (build/slurm/start.sh): skipped only where Slurm is neither installed nor
/// installable (not root, or no apt-get). On CI (root, Debian) .ci/run installs it, and start.sh would too.
/// </summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        bool installed = File.Exists("/usr/sbin/slurmctld") && File.Exists("/usr/sbin/slurmd") && File.Exists("/usr/sbin/munged");
        bool installable = Environment.UserName == "root" && File.Exists("/usr/bin/apt-get");
        if (!OperatingSystem.IsLinux() || !(installed || installable))
        {
            Skip = "SlurmFact: needs Linux and either Slurm installed (slurm-wlm, munge) or root with apt-get to install it (build/slurm/start.sh).";
        }
    }
}

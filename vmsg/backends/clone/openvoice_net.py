"""The OpenVoice V2 tone-colour converter network, written for vmsg from the published
architecture (a VITS posterior encoder, a mean-only residual-coupling flow conditioned
on a speaker embedding, a HiFi-GAN decoder, and a reference encoder that turns a
linear spectrogram into that embedding).

Module and parameter names follow the official checkpoint's state-dict keys
(`enc_q.*`, `flow.flows.N.*`, `dec.*`, `ref_enc.*`), with weight-normalised layers
stored as `weight_g`/`weight_v`, so `load_state_dict(strict=True)` accepts it.
Only imported by the openvoice-local engine (torch is heavy).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import weight_norm

LRELU_SLOPE = 0.1


def _pad(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


def _mask(lengths: torch.Tensor, size: int) -> torch.Tensor:
    return (torch.arange(size, device=lengths.device)[None, :] < lengths[:, None]).unsqueeze(1).float()


class WaveNet(nn.Module):
    """Gated dilated convolutions with a global condition (VITS 'WN')."""

    def __init__(self, hidden: int, kernel: int, dilation_rate: int, n_layers: int, gin: int = 0) -> None:
        super().__init__()
        self.hidden, self.n_layers = hidden, n_layers
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        if gin:
            self.cond_layer = weight_norm(nn.Conv1d(gin, 2 * hidden * n_layers, 1))
        for i in range(n_layers):
            d = dilation_rate**i
            self.in_layers.append(weight_norm(nn.Conv1d(hidden, 2 * hidden, kernel, dilation=d, padding=_pad(kernel, d))))
            out = 2 * hidden if i < n_layers - 1 else hidden
            self.res_skip_layers.append(weight_norm(nn.Conv1d(hidden, out, 1)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        output = torch.zeros_like(x)
        g = self.cond_layer(g) if g is not None else None
        for i in range(self.n_layers):
            h = self.in_layers[i](x)
            if g is not None:
                h = h + g[:, i * 2 * self.hidden : (i + 1) * 2 * self.hidden, :]
            acts = torch.tanh(h[:, : self.hidden]) * torch.sigmoid(h[:, self.hidden :])
            res_skip = self.res_skip_layers[i](acts)
            if i < self.n_layers - 1:
                x = (x + res_skip[:, : self.hidden]) * mask
                output = output + res_skip[:, self.hidden :]
            else:
                output = output + res_skip
        return output * mask


class PosteriorEncoder(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, hidden: int, kernel: int, dilation_rate: int, n_layers: int, gin: int) -> None:
        super().__init__()
        self.out_ch = out_ch
        self.pre = nn.Conv1d(in_ch, hidden, 1)
        self.enc = WaveNet(hidden, kernel, dilation_rate, n_layers, gin)
        self.proj = nn.Conv1d(hidden, out_ch * 2, 1)

    def forward(self, spec: torch.Tensor, lengths: torch.Tensor, g: torch.Tensor, tau: float):
        mask = _mask(lengths, spec.size(2))
        h = self.enc(self.pre(spec) * mask, mask, g=g)
        m, logs = torch.split(self.proj(h) * mask, self.out_ch, dim=1)
        return (m + torch.randn_like(m) * tau * torch.exp(logs)) * mask, mask


class CouplingLayer(nn.Module):
    """Mean-only affine coupling: the second half is shifted by a function of the first."""

    def __init__(self, channels: int, hidden: int, kernel: int, dilation_rate: int, n_layers: int, gin: int) -> None:
        super().__init__()
        self.half = channels // 2
        self.pre = nn.Conv1d(self.half, hidden, 1)
        self.enc = WaveNet(hidden, kernel, dilation_rate, n_layers, gin)
        self.post = nn.Conv1d(hidden, self.half, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor, reverse: bool) -> torch.Tensor:
        x0, x1 = torch.split(x, [self.half, self.half], 1)
        m = self.post(self.enc(self.pre(x0) * mask, mask, g=g)) * mask
        x1 = (x1 - m) * mask if reverse else m + x1 * mask
        return torch.cat([x0, x1], 1)


class Flip(nn.Module):
    def forward(self, x: torch.Tensor, *_args, **_kwargs) -> torch.Tensor:
        return torch.flip(x, [1])


class CouplingBlock(nn.Module):
    def __init__(self, channels: int, hidden: int, kernel: int, dilation_rate: int, n_layers: int, n_flows: int, gin: int) -> None:
        super().__init__()
        self.flows = nn.ModuleList()
        for _ in range(n_flows):
            self.flows.append(CouplingLayer(channels, hidden, kernel, dilation_rate, n_layers, gin))
            self.flows.append(Flip())

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        for flow in reversed(self.flows) if reverse else self.flows:
            x = flow(x, mask, g=g, reverse=reverse)
        return x


class ResBlock1(nn.Module):
    def __init__(self, ch: int, kernel: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(weight_norm(nn.Conv1d(ch, ch, kernel, 1, dilation=d, padding=_pad(kernel, d))) for d in dilations)
        self.convs2 = nn.ModuleList(weight_norm(nn.Conv1d(ch, ch, kernel, 1, padding=_pad(kernel))) for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class Generator(nn.Module):
    """HiFi-GAN decoder: latent frames → waveform (hop = product of the upsample rates)."""

    def __init__(self, in_ch: int, kernels: list[int], dilations: list[list[int]], rates: list[int], initial: int,
                 up_kernels: list[int], gin: int) -> None:
        super().__init__()
        self.n_kernels = len(kernels)
        self.conv_pre = nn.Conv1d(in_ch, initial, 7, 1, padding=3)
        self.ups = nn.ModuleList(
            weight_norm(nn.ConvTranspose1d(initial // 2**i, initial // 2 ** (i + 1), k, u, padding=(k - u) // 2))
            for i, (u, k) in enumerate(zip(rates, up_kernels)))
        self.resblocks = nn.ModuleList(
            ResBlock1(initial // 2 ** (i + 1), k, d) for i in range(len(rates)) for k, d in zip(kernels, dilations))
        self.conv_post = nn.Conv1d(initial // 2 ** len(rates), 1, 7, 1, padding=3, bias=False)
        if gin:
            self.cond = nn.Conv1d(gin, initial, 1)

    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.n_kernels : (i + 1) * self.n_kernels]
            x = sum(block(x) for block in blocks) / self.n_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))


class ReferenceEncoder(nn.Module):
    """Linear spectrogram [B, T, F] → tone-colour embedding [B, gin]."""

    def __init__(self, spec_channels: int, gin: int) -> None:
        super().__init__()
        self.spec_channels = spec_channels
        filters = [1, 32, 32, 64, 64, 128, 128]
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(filters[i], filters[i + 1], (3, 3), (2, 2), (1, 1))) for i in range(len(filters) - 1))
        freq = spec_channels
        for _ in range(len(filters) - 1):
            freq = (freq - 3 + 2) // 2 + 1
        self.gru = nn.GRU(filters[-1] * freq, 128, batch_first=True)
        self.proj = nn.Linear(128, gin)
        self.layernorm = nn.LayerNorm(spec_channels)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        out = self.layernorm(spec.reshape(spec.size(0), 1, -1, self.spec_channels))
        for conv in self.convs:
            out = F.relu(conv(out))
        out = out.transpose(1, 2).contiguous()
        out = out.view(out.size(0), out.size(1), -1)
        _, hidden = self.gru(out)
        return self.proj(hidden.squeeze(0))


class ToneColorConverter(nn.Module):
    """The converter half of OpenVoice's SynthesizerTrn (n_speakers = 0, zero_g)."""

    def __init__(self, *, spec_channels: int, inter_channels: int, hidden_channels: int, resblock: str,
                 resblock_kernel_sizes: list[int], resblock_dilation_sizes: list[list[int]], upsample_rates: list[int],
                 upsample_initial_channel: int, upsample_kernel_sizes: list[int], gin_channels: int = 256,
                 zero_g: bool = False, **_unused) -> None:
        super().__init__()
        if resblock != "1":
            raise ValueError(f"resblock type {resblock!r} is not supported (the V2 converter uses '1')")
        self.zero_g = zero_g
        self.dec = Generator(inter_channels, resblock_kernel_sizes, resblock_dilation_sizes, upsample_rates,
                             upsample_initial_channel, upsample_kernel_sizes, gin_channels)
        self.enc_q = PosteriorEncoder(spec_channels, inter_channels, hidden_channels, 5, 1, 16, gin_channels)
        self.flow = CouplingBlock(inter_channels, hidden_channels, 5, 1, 4, 4, gin_channels)
        self.ref_enc = ReferenceEncoder(spec_channels, gin_channels)

    def embedding(self, spec: torch.Tensor) -> torch.Tensor:
        """[1, F, T] linear spectrogram → [1, gin, 1] tone-colour embedding."""
        return self.ref_enc(spec.transpose(1, 2)).unsqueeze(-1)

    def voice_conversion(self, spec: torch.Tensor, lengths: torch.Tensor, g_src: torch.Tensor, g_tgt: torch.Tensor,
                         tau: float = 0.3) -> torch.Tensor:
        z, mask = self.enc_q(spec, lengths, g=torch.zeros_like(g_src) if self.zero_g else g_src, tau=tau)
        z_p = self.flow(z, mask, g=g_src)
        z_hat = self.flow(z_p, mask, g=g_tgt, reverse=True)
        return self.dec(z_hat * mask, g=torch.zeros_like(g_tgt) if self.zero_g else g_tgt)


def linear_spectrogram(y: torch.Tensor, n_fft: int, hop: int, win: int) -> torch.Tensor:
    """Magnitude STFT as the converter was trained on: reflect-padded, not centred."""
    pad = (n_fft - hop) // 2
    y = F.pad(y.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(y, n_fft, hop_length=hop, win_length=win, window=torch.hann_window(win, device=y.device),
                      center=False, normalized=False, onesided=True, return_complex=True)
    return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-6)

"""Pad and mask: series of unequal lengths padded to one length keep a mask of their real steps, and the stage-1
losses, the training loop and the reconstruction metrics leave the padding out; without a mask nothing changes."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tsssl.augment import AugmentConfig
from tsssl.data import to_device
from tsssl.ncvqvae import NCVQVAE, stage1_loss
from tsssl.sources import series_from_arrays
from tsssl.ssl import SSLConfig
from tsssl.stage1_eval import evaluate_stage1
from tsssl.train import TrainConfig, fit
from tsssl.vqvae import VQVAE, VQVAEConfig, recon_losses

LENGTHS = (20, 24, 30, 16, 20, 28, 24, 22, 26, 30, 18, 29)
SMALL = dict(dim=16, n_resnet_blocks=1, codebook_size=8)


def _ragged(seed: int = 0) -> list[np.ndarray]:
    "Noisy sines of the lengths above, each over its own span."
    rng = np.random.default_rng(seed)
    return [np.sin(np.linspace(0, 4 * np.pi, n)) + 0.1 * rng.normal(size=n) for n in LENGTHS]


def test_padded_data_keeps_the_real_lengths():
    d = series_from_arrays(_ragged(), unequal="pad", length=32)
    assert d.padded and d.length == 32 and d.preparation["lengths"] == "padded"
    assert sorted([*d.lengths_train, *d.lengths_test]) == sorted(LENGTHS)
    td = to_device(d, "cpu")
    assert td.mask_train.shape == (len(d.x_train), 1, 32) and td.mask_train.dtype == torch.bool
    assert td.mask_train.sum(-1).ravel().tolist() == d.lengths_train.tolist()
    assert float(td.x_train[~td.mask_train.expand_as(td.x_train)].abs().max()) == 0.0  # padding is 0, the train mean
    same = series_from_arrays(np.stack([s[:16] for s in _ragged()]))                 # equal lengths: no lengths, no masks
    assert not same.padded and to_device(same, "cpu").mask_train is None


def test_masked_time_loss_equals_the_unpadded_series():
    "The time term of a padded batch with its mask is the MSE of the unpadded series, whatever x̂ does in the padding."
    d = series_from_arrays(_ragged(), unequal="pad", length=32)
    td = to_device(d, "cpu")
    x, m = td.x_train, td.mask_train
    g = torch.Generator().manual_seed(0)
    x_hat = x + 0.3 * torch.randn(x.shape, generator=g)
    junk = torch.where(m, x_hat, 7.0)                                                   # anything at all in the padding
    rt, _ = recon_losses(x, junk, None, None, 8, m)
    real = [(x_hat[i, :, :n] - x[i, :, :n]) for i, n in enumerate(d.lengths_train)]
    unpadded = torch.cat([r.flatten() for r in real])
    torch.testing.assert_close(rt, (unpadded ** 2).mean(), rtol=1e-6, atol=1e-7)
    for i, (n, r) in enumerate(zip(d.lengths_train, real)):                           # one series alone: its own MSE
        rt_i, _ = recon_losses(x[i : i + 1], junk[i : i + 1], None, None, 8, m[i : i + 1])
        torch.testing.assert_close(rt_i, F.mse_loss(x_hat[i : i + 1, :, :n], x[i : i + 1, :, :n]), rtol=1e-6, atol=1e-7)
    _, rtf7 = recon_losses(x, junk, None, None, 8, m)
    _, rtf0 = recon_losses(x, torch.where(m, x_hat, 0.0), None, None, 8, m)
    torch.testing.assert_close(rtf7, rtf0)                                             # the padding costs nothing in frequency


def test_no_mask_is_bit_identical():
    torch.manual_seed(0)
    cfg = VQVAEConfig(length=32, **SMALL)
    x = torch.randn(6, 1, 32)
    tok = VQVAE(cfg).eval()
    with torch.no_grad():
        out = tok(x)
        assert torch.equal(out.losses.recon_time, F.mse_loss(out.x_hat, x))
        assert torch.equal(out.losses.recon_timefreq, F.mse_loss(out.u_hat, out.u))
        assert torch.equal(stage1_loss(tok, x, None, None).total, out.losses.total)
        nc = NCVQVAE(tok, SSLConfig(method="barlowtwins", proj_hidden=32, proj_out=32), AugmentConfig()).eval()
        o = nc(x, torch.Generator().manual_seed(1))
        xa = o.x_aug; xha, ua, uha, _ = tok.autoencode(xa)
        assert torch.equal(o.losses.recon_aug_time, F.mse_loss(xha.float(), xa.float()))
        assert torch.equal(o.losses.recon_aug_timefreq, F.mse_loss(uha.float(), ua.float()))
        assert torch.equal(stage1_loss(nc, x, None, torch.Generator().manual_seed(1)).total, o.losses.total)


@pytest.mark.parametrize("method", ["plain", "barlowtwins"])
def test_padded_dataset_trains_one_epoch(method):
    "A padded dataset trains one tiny epoch through `fit` with its mask, and is measured over its real steps."
    d = series_from_arrays(_ragged(), unequal="pad", length=32)
    td = to_device(d, "cpu")
    torch.manual_seed(0)
    tok = VQVAE(VQVAEConfig(length=d.length, **SMALL))
    model = tok if method == "plain" else NCVQVAE(tok, SSLConfig(method=method, proj_hidden=32, proj_out=32), AugmentConfig())
    masks = []
    def spy(model, x, y, g, mask=None):
        masks.append(mask); return stage1_loss(model, x, y, g, mask)
    res = fit(model, spy, td.x_train, td.y_train, TrainConfig(epochs=1, batch_size=4, progress=False, device="cpu"),
              mask_train=td.mask_train)
    assert res.step == math.ceil(len(td.x_train) / 4) and math.isfinite(res.last_losses["total"])
    assert all(mk is not None and mk.shape[1:] == (1, 32) for mk in masks) and sum(len(mk) for mk in masks) == len(td.x_train)
    ev = evaluate_stage1(tok, td.x_train, None, td.x_test, None, mask_train=td.mask_train, mask_test=td.mask_test)
    assert math.isfinite(ev.metrics["recon_mse_time"]) and math.isfinite(ev.metrics["recon_mse_timefreq"])


def test_padded_file_trains_through_train_stage1(tmp_path):
    "The public door: a ragged CSV with unequal='pad' trains one tiny epoch with train_stage1 and finishes."
    from tsssl.stage1 import Stage1Config, train_stage1
    path = tmp_path / "ragged.csv"
    path.write_text("".join(",".join(f"{v:.5f}" for v in s) + "\n" for s in _ragged()))
    cfg = Stage1Config(dataset=str(path), unequal="pad", length=32, vqvae_overrides=SMALL,
                       train=TrainConfig(epochs=1, batch_size=4, progress=False, device="cpu"))
    r = train_stage1(cfg, tmp_path / "run")
    assert r.data.padded and r.data.preparation["lengths"] == "padded"
    assert all(math.isfinite(r.metrics[k]) for k in ("recon_mse_time", "recon_mse_timefreq", "val_loss", "final_train_loss"))


def test_train_stage1_masks_the_padding(tmp_path, monkeypatch):
    "train_stage1 on padded data trains and measures over the real steps: the loss gets the mask, the metric is the masked one."
    import tsssl.stage1 as s1
    seen = []
    def spy(model, x, y, g, mask=None):
        seen.append(mask is not None); return stage1_loss(model, x, y, g, mask)
    monkeypatch.setattr(s1, "stage1_loss", spy)
    path = tmp_path / "ragged.csv"
    path.write_text("".join(",".join(f"{v:.5f}" for v in s) + "\n" for s in _ragged()))
    cfg = s1.Stage1Config(dataset=str(path), unequal="pad", length=32, vqvae_overrides=SMALL,
                          train=TrainConfig(epochs=1, batch_size=4, progress=False, device="cpu"))
    r = s1.train_stage1(cfg, tmp_path / "run")
    assert seen and all(seen)
    td = to_device(r.data, "cpu")
    ev = evaluate_stage1(r.tokenizer, td.x_train, None, td.x_test, None, mask_train=td.mask_train, mask_test=td.mask_test)
    assert r.metrics["recon_mse_time"] == pytest.approx(ev.metrics["recon_mse_time"], rel=1e-6)
    with torch.no_grad():
        val = float(r.tokenizer.eval()(td.x_test, td.mask_test).losses.total)
    assert r.metrics["val_loss"] == pytest.approx(val, rel=1e-5)

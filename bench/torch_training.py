"""What bench's PyTorch trainers (train_resnet20_torch.py, train_stn_torch.py) share: scoring a
model on a test set, an atomic checkpoint, and the epoch lines and CSV rows of glimpse's trainers."""
import os
import sys

import torch
import torch.nn.functional as F

CSV_HEADER = "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s\n"  # train/classifier.h's


def evaluate(model, images, labels, normalise):
    """(accuracy, mean cross-entropy) of the model in evaluation mode over uint8 `images`, in
    batches of 500 as glimpse's trainers score; normalise: uint8 batch -> float input."""
    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(labels), 500):
            logits = model(normalise(images[start:start + 500]))
            y = labels[start:start + 500]
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    return correct / len(labels), loss_sum / len(labels)


def save_atomically(state, path):
    temporary = path + ".tmp"
    torch.save(state, temporary)
    os.replace(temporary, path)  # a crash mid-write leaves the previous checkpoint


def resume_or_start(save, log, run, model, optimizer):
    """Resumes from the checkpoint `save` when it exists, which must have been written by a run of
    the same settings `run` (a dict also stored in every checkpoint): loads the model and the
    optimiser and returns the checkpoint. Else starts the CSV `log` (when given) and returns None."""
    if save and os.path.exists(save):
        state = torch.load(save)
        saved = {key: state.get(key) for key in run}
        if saved != run:
            sys.exit(f"--save {save}: written by the run {saved}; this run is {run}")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        print(f"resumed from {save} after epoch {state['epoch']}")
        return state
    if log:
        with open(log, "w") as f:
            f.write(CSV_HEADER)
    return None


def report_epoch(log, epoch, steps_per_epoch, lr, train, test, seconds, trained_acc=None):
    """Prints the trainers' epoch line and appends its CSV row to `log` (when given).
    train: (loss sum, correct, images) over the epoch; test: (accuracy, loss) of the reported
    weights; trained_acc: when the reported weights are averages, the trained weights' accuracy."""
    loss_sum, correct, n = train
    test_acc, test_loss = test
    shown = f" (averaged weights; trained weights {100 * trained_acc:.2f}%)" if trained_acc is not None else ""
    print(f"epoch {epoch}: train loss {loss_sum / n:.4f} acc {100 * correct / n:.2f}% | "
          f"test loss {test_loss:.4f} acc {100 * test_acc:.2f}%{shown} | {seconds:.1f} s, {n / seconds:.0f} img/s",
          flush=True)
    if log:
        with open(log, "a") as f:
            f.write(f"{epoch},{epoch * steps_per_epoch},{lr:.9g},{loss_sum / n:.6f},{correct / n:.6f},"
                    f"{test_loss:.6f},{test_acc:.6f},{seconds:.2f},{n / seconds:.1f}\n")

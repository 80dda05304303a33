"""What intake does: accept needs from every channel, read them, report on cases, reveal and erase
identity, keep its copy of the events it consumes, re-drive and retain."""

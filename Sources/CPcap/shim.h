#ifndef NICSIM_CPCAP_SHIM_H
#define NICSIM_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
